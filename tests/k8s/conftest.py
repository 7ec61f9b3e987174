"""The overlays, rendered once per test session with the real kustomize (no network, no cluster)."""

import copy

import pytest

from aar.k8s.render import EXAMPLES, OVERLAYS, render

ALL = OVERLAYS + EXAMPLES


@pytest.fixture(scope="session")
def _rendered() -> dict[str, list[dict]]:
    return {name: render(name) for name in ALL}


@pytest.fixture
def rendered(_rendered):
    """overlay name → its objects (a fresh copy: tests may mutate it)."""
    return copy.deepcopy(_rendered)


def find(objects: list[dict], kind: str, name: str) -> dict:
    matches = [o for o in objects if o["kind"] == kind and o["metadata"]["name"] == name]
    assert len(matches) == 1, f"{kind}/{name}: {len(matches)} in the render"
    return matches[0]


def container(objects: list[dict], kind: str, name: str, container_name: str) -> dict:
    spec = find(objects, kind, name)["spec"]["template"]["spec"]
    return next(c for c in spec.get("initContainers", []) + spec["containers"] if c["name"] == container_name)
