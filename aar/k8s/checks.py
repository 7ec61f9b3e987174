"""Our own rules for the rendered stack, beyond the schemas and Pod Security.

- every namespace enforces a Pod Security level other than ``privileged`` and every pod is in one of them;
- a pod's Localhost seccomp profile is one that ships under ``k8s/`` (``seccomp/<name>.json``);
- every container has CPU and memory requests and limits and a read-only root filesystem; every
  long-running container has a liveness and a readiness probe;
- every Secret, ConfigMap and PersistentVolumeClaim a pod refers to (and every key) is in the render, in the
  pod's own namespace;
- every environment variable an ``aar-runtime`` container gets is one the project reads: a settings field's
  name (``aar.settings.SETTINGS``) or a CLI option's ``envvar``.
"""

from __future__ import annotations

import base64
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from aar.k8s.podsecurity import ENFORCE, admission_problems, containers, pod_specs, workload_specs
from aar.k8s.render import ROOT
from aar.settings import cli_env_names, settings_env_names

RUNTIME_IMAGES = ("aar-runtime:", "aar-runtime-gpu:")
# Read by Python or libraries rather than by our Settings.
PROCESS_ENV = {"HOME", "PYTHONUNBUFFERED", "HF_HUB_OFFLINE"}


def container_problems(objects: list[dict]) -> list[str]:
    """Missing requests/limits, writable root filesystems and missing probes."""
    bad = []
    for where, spec in pod_specs(objects):
        long_running = {c["name"] for c in spec.get("containers", [])}
        for c in containers(spec):
            res, name = c.get("resources") or {}, f"{where} container {c['name']}"
            for kind in ("requests", "limits"):
                missing = {"cpu", "memory"} - set(res.get(kind) or {})
                bad += [f"{name}: no {kind}.{m}" for m in sorted(missing)]
            if (c.get("securityContext") or {}).get("readOnlyRootFilesystem") is not True:
                bad.append(f"{name}: root filesystem is writable")
            if c["name"] in long_running:
                bad += [f"{name}: no {p}" for p in ("livenessProbe", "readinessProbe") if p not in c]
    return bad


def _by_kind(objects: list[dict], kind: str) -> dict[tuple[str | None, str], dict]:
    """(namespace, name) → object: a pod sees the Secrets, ConfigMaps and claims of its own namespace only."""
    return {(o["metadata"].get("namespace"), o["metadata"]["name"]): o for o in objects if o.get("kind") == kind}


def secret_values(secret: dict) -> dict[str, str]:
    """A Secret's decoded values (``data`` is base64, ``stringData`` is plain)."""
    values = {k: base64.b64decode(v).decode() for k, v in (secret.get("data") or {}).items()}
    return {**values, **(secret.get("stringData") or {})}


def _refs(spec: dict) -> Iterator[tuple[str, str, str | None]]:
    """(kind, name, key or None) of everything ``spec`` refers to."""
    for c in containers(spec):
        for env in c.get("env", []):
            source = env.get("valueFrom") or {}
            for field, kind in (("secretKeyRef", "Secret"), ("configMapKeyRef", "ConfigMap")):
                if field in source and not source[field].get("optional"):
                    yield kind, source[field]["name"], source[field]["key"]
        for env_from in c.get("envFrom", []):
            for field, kind in (("secretRef", "Secret"), ("configMapRef", "ConfigMap")):
                if field in env_from:
                    yield kind, env_from[field]["name"], None
    for volume in spec.get("volumes", []):
        if "secret" in volume:
            for item in volume["secret"].get("items") or [{"key": None}]:
                yield "Secret", volume["secret"]["secretName"], item["key"]
        if "configMap" in volume:
            yield "ConfigMap", volume["configMap"]["name"], None
        if "persistentVolumeClaim" in volume:
            yield "PersistentVolumeClaim", volume["persistentVolumeClaim"]["claimName"], None


def reference_problems(objects: list[dict]) -> list[str]:
    """References to Secrets, ConfigMaps, keys and claims that the render does not contain."""
    keys = {ref: set(secret_values(s)) for ref, s in _by_kind(objects, "Secret").items()}
    keys.update({ref: set(c.get("data") or {}) for ref, c in _by_kind(objects, "ConfigMap").items()})
    claims = set(_by_kind(objects, "PersistentVolumeClaim"))
    bad = []
    for where, namespace, spec in workload_specs(objects):
        for kind, name, key in _refs(spec):
            ref = (namespace, name)
            exists = ref in claims if kind == "PersistentVolumeClaim" else ref in keys
            if not exists:
                bad.append(f"{where}: {kind} {name} is not in the render (namespace {namespace})")
            elif key is not None and key not in keys[ref]:
                bad.append(f"{where}: {kind} {name} has no key {key}")
    return bad


def known_env_names(cli: Any) -> set[str]:
    """Every environment variable the project reads: settings fields (``aar.settings``) and the options of
    ``cli`` (the ``aar`` command, passed in by its caller so this module never imports the CLI)."""
    return settings_env_names() | cli_env_names(cli)


def env_names(objects: list[dict], container: dict, namespace: str | None) -> set[str]:
    """The names ``container`` (of a pod in ``namespace``) gets: ``env`` entries plus the keys of ``envFrom``
    ConfigMaps and Secrets."""
    maps = {**_by_kind(objects, "ConfigMap"), **_by_kind(objects, "Secret")}
    names = {e["name"] for e in container.get("env", [])}
    for env_from in container.get("envFrom", []):
        ref = env_from.get("configMapRef") or env_from.get("secretRef") or {}
        if (name := ref.get("name")) is None:
            continue
        obj = maps.get((namespace, name), {})
        names |= set(obj.get("data") or {}) | set(obj.get("stringData") or {})
    return names


def env_problems(objects: list[dict], known: set[str]) -> list[str]:
    """Variables given to ``aar-runtime`` containers that nothing in the project reads (typos, stale names);
    ``known`` is what ``known_env_names`` returns."""
    known = known | PROCESS_ENV
    bad = []
    for where, namespace, spec in workload_specs(objects):
        for c in containers(spec):
            if c.get("image", "").startswith(RUNTIME_IMAGES):
                bad += [
                    f"{where} container {c['name']}: {n} is read by nothing"
                    for n in sorted(env_names(objects, c, namespace) - known)
                ]
    return bad


def shipped_seccomp_profiles(root: Path = ROOT) -> set[str]:
    """``profiles/<file>`` names of the seccomp profiles under ``k8s/`` (what the nodes must install)."""
    return {f"profiles/{path.name}" for path in root.rglob("seccomp/*.json")}


def namespace_problems(objects: list[dict]) -> list[str]:
    """Namespaces that enforce nothing (``privileged``), pods outside the rendered namespaces, Localhost
    seccomp profiles that ``k8s/`` does not ship."""
    labels = {o["metadata"]["name"]: o["metadata"].get("labels") or {} for o in objects if o.get("kind") == "Namespace"}
    bad = [
        f"Namespace/{name}: enforces no Pod Security level above privileged"
        for name, lab in labels.items()
        if lab.get(ENFORCE, "privileged") == "privileged"
    ]
    shipped = shipped_seccomp_profiles()
    for where, namespace, spec in workload_specs(objects):
        if namespace not in labels:
            bad.append(f"{where}: namespace {namespace} is not in the render")
        contexts = [spec.get("securityContext") or {}] + [c.get("securityContext") or {} for c in containers(spec)]
        for profile in (sc.get("seccompProfile") or {} for sc in contexts):
            if profile.get("type") == "Localhost" and profile.get("localhostProfile") not in shipped:
                bad.append(f"{where}: seccomp profile {profile.get('localhostProfile')} is not shipped under k8s/")
    return bad


def problems(objects: list[dict], known_env: set[str]) -> list[str]:
    """Every rule here plus Pod Security (each pod at its namespace's enforced level), as one list;
    ``known_env`` as for ``env_problems``."""
    return (
        admission_problems(objects)
        + namespace_problems(objects)
        + container_problems(objects)
        + reference_problems(objects)
        + env_problems(objects, known_env)
    )
