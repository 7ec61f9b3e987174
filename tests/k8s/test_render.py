"""Both overlays and the external-database example build with kustomize into the whole stack."""

import os

import pytest
import yaml
from typer.testing import CliRunner

from aar.cli import app
from aar.k8s.checks import reference_problems, secret_values
from aar.k8s.render import OVERLAYS, RenderError, overlay_path, render, render_yaml

STACK = {
    ("Namespace", "aar"),
    ("Namespace", "aar-scoring"),
    ("Service", "aar-scorer"),
    ("Deployment", "aar-scorer"),
    ("Deployment", "aar-scorer-worker"),
    ("Service", "aar-forum"),
    ("Deployment", "aar-forum"),
    ("PersistentVolumeClaim", "aar-forum-data"),
    ("Service", "aar-dashboard"),
    ("Deployment", "aar-dashboard"),
    ("Service", "aar-redis"),
    ("Deployment", "aar-redis"),
    ("Service", "aar-postgres"),
    ("StatefulSet", "aar-postgres"),
    ("Job", "aar-campaign"),
    ("PersistentVolumeClaim", "aar-campaign-data"),
    ("NetworkPolicy", "aar-default-deny"),
    ("NetworkPolicy", "aar-dns"),
    ("NetworkPolicy", "aar-sandbox"),
    ("NetworkPolicy", "aar-scoring-default-deny"),
    ("NetworkPolicy", "aar-scorer-worker"),
}
# What lives in the worker's namespace; everything else namespaced is in `aar`.
SCORING = {
    ("Deployment", "aar-scorer-worker"),
    ("NetworkPolicy", "aar-scoring-default-deny"),
    ("NetworkPolicy", "aar-scorer-worker"),
    ("PersistentVolumeClaim", "aar-models"),
    ("ConfigMap", "aar-config"),
    ("Secret", "aar-secrets"),
}


def _names(objects):
    return {(o["kind"], o["metadata"]["name"]) for o in objects}


def _base_name(obj):
    """The name without a generator's hash suffix."""
    name = obj["metadata"]["name"]
    return name.rsplit("-", 1)[0] if obj["kind"] in ("Secret", "ConfigMap") else name


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_overlay_renders_the_whole_stack(rendered, overlay):
    objects = rendered[overlay]
    assert STACK <= _names(objects)
    assert all(o["metadata"]["labels"]["app.kubernetes.io/part-of"] == "aar" for o in objects)
    namespaced = {
        (o["kind"], _base_name(o)): o["metadata"].get("namespace")
        for o in objects
        if o["kind"] != "Namespace" and (o["kind"], _base_name(o)) not in SCORING
    }
    assert set(namespaced.values()) == {"aar"}
    scoring = {(o["kind"], _base_name(o)) for o in objects if o["metadata"].get("namespace") == "aar-scoring"}
    assert scoring == SCORING - ({("PersistentVolumeClaim", "aar-models")} if overlay == "cpu" else set())
    generated = {(o["metadata"]["namespace"], _base_name(o)) for o in objects if o["kind"] in ("Secret", "ConfigMap")}
    assert generated == {
        ("aar", "aar-config"),
        ("aar", "aar-secrets"),
        ("aar", "aar-postgres"),
        ("aar", "aar-redis"),
        ("aar-scoring", "aar-config"),
        ("aar-scoring", "aar-secrets"),
    }


def test_images_are_set_through_kustomize(rendered):
    def images(objects):
        return {
            c["image"]
            for o in objects
            if "template" in o.get("spec", {})
            for c in o["spec"]["template"]["spec"]["containers"]
            + o["spec"]["template"]["spec"].get("initContainers", [])
        }

    base = {"aar-runtime:0.1.0", "postgres:15-bookworm", "redis:7-bookworm"}
    assert images(rendered["cpu"]) == base
    assert images(rendered["gpu"]) == base | {"aar-runtime-gpu:0.1.0"}


def test_external_postgres_example_drops_the_database(rendered):
    names = _names(rendered["external-postgres"])
    assert not {n for n in names if n[1] == "aar-postgres" or n[1].startswith("aar-postgres-")}
    assert ("NetworkPolicy", "aar-external-postgres") in names
    assert ("Deployment", "aar-scorer-worker") in names


def test_a_broken_kustomization_fails_loudly(tmp_path):
    (tmp_path / "kustomization.yaml").write_text("resources: [missing.yaml]\n")
    with pytest.raises(RenderError, match="missing.yaml"):
        render(tmp_path)
    with pytest.raises(RenderError, match="not an overlay"):
        render(tmp_path / "nowhere")


def test_cli_render_and_validate(tmp_path):
    runner = CliRunner()
    result = runner.invoke(app, ["k8s", "render", "--overlay", "gpu"])
    assert result.exit_code == 0, result.output
    assert result.output == render_yaml("gpu")
    assert len([d for d in yaml.safe_load_all(result.output) if d]) > 20
    result = runner.invoke(app, ["k8s", "validate", "--overlay", "cpu"])
    assert result.exit_code == 0, result.output
    assert "cpu: 33 objects" in result.output and "ok" in result.output
    pod = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "bad"},
        "spec": {"containers": [{"name": "c", "image": "x", "securityContext": {"privileged": True}}]},
    }
    (tmp_path / "pod.yaml").write_text(yaml.safe_dump(pod))
    (tmp_path / "kustomization.yaml").write_text("resources: [pod.yaml]\n")
    result = runner.invoke(app, ["k8s", "validate", "--overlay", str(tmp_path)])
    assert result.exit_code == 1
    assert "Pod/bad: container c: privileged" in result.output and "no livenessProbe" in result.output


def test_a_deployment_overlay_replaces_the_placeholder_secrets(tmp_path):
    """The pattern k8s/README.md documents: a secretGenerator with `behavior: replace` in your own overlay, one
    per namespace (the worker's holds only the two URLs and the scoring secret)."""
    base = os.path.relpath(overlay_path("gpu"), tmp_path)
    env = [
        "AAR_ADMIN_TOKEN=test-token-0123456789abcdef",
        "ANTHROPIC_API_KEY=",
        "AAR_SCORING_SECRET=scoring-secret-0123456789abcdef",
        "DATABASE_URL=postgresql+psycopg://aar:pw@db:5432/aar",
        "REDIS_URL=redis://:pw@r:6379/0",
    ]
    (tmp_path / "secrets.env").write_text("\n".join(env) + "\n")
    (tmp_path / "scoring-secrets.env").write_text("\n".join(env[2:]) + "\n")
    generators = [
        {"name": "aar-secrets", "namespace": "aar", "behavior": "replace", "envs": ["secrets.env"]},
        {"name": "aar-secrets", "namespace": "aar-scoring", "behavior": "replace", "envs": ["scoring-secrets.env"]},
    ]
    (tmp_path / "kustomization.yaml").write_text(yaml.safe_dump({"resources": [base], "secretGenerator": generators}))
    objects = render(tmp_path)
    secrets = {
        o["metadata"]["namespace"]: secret_values(o)
        for o in objects
        if o["kind"] == "Secret" and o["metadata"]["name"].startswith("aar-secrets-")
    }
    assert secrets["aar"]["AAR_ADMIN_TOKEN"] == "test-token-0123456789abcdef"
    assert secrets["aar-scoring"] == {
        "DATABASE_URL": "postgresql+psycopg://aar:pw@db:5432/aar",
        "REDIS_URL": "redis://:pw@r:6379/0",
        "AAR_SCORING_SECRET": "scoring-secret-0123456789abcdef",
    }
    assert reference_problems(objects) == []  # every secretKeyRef follows the new hashed name of its namespace
