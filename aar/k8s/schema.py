"""Validate rendered objects against the Kubernetes OpenAPI schemas bundled in ``kubernetes-validate``.

Strict mode: unknown fields are errors, and so is a kind with no schema (a typo in ``apiVersion``).
"""

from __future__ import annotations

import functools

import kubernetes_validate
from kubernetes_validate import utils

# The oldest release we support (Pod Security Admission and user-facing fields we use are GA) and the newest
# the package ships: a field must be valid in both.
KUBE_VERSIONS = ("1.30", "1.37")

# validate() re-reads each (multi-MB) schema file per object; the files never change, so read them once.
utils.schema_contents = functools.lru_cache(maxsize=None)(utils.schema_contents)


def _name(obj: dict) -> str:
    return f"{obj.get('kind')}/{obj.get('metadata', {}).get('name')}"


def schema_errors(objects: list[dict], versions: tuple[str, ...] = KUBE_VERSIONS) -> list[str]:
    """One line per object that does not validate against every version in ``versions``."""
    errors = []
    for version in versions:
        for obj in objects:
            try:
                kubernetes_validate.validate(obj, version, strict=True)
            except kubernetes_validate.ValidationError as exc:
                path = ".".join(str(p) for p in exc.path) or "(root)"
                errors.append(f"{_name(obj)} (k8s {version}): {path}: {exc.message}")
            except kubernetes_validate.SchemaNotFoundError as exc:
                errors.append(f"{_name(obj)} (k8s {version}): {exc.message}")
    return errors
