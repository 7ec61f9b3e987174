"""Every rendered object validates, strictly, against the Kubernetes schemas (oldest and newest supported)."""

import pytest

from aar.k8s.schema import schema_errors
from tests.k8s.conftest import ALL, find


@pytest.mark.parametrize("overlay", ALL)
def test_every_object_validates(rendered, overlay):
    assert schema_errors(rendered[overlay]) == []


def test_the_validator_rejects_what_a_cluster_would(rendered):
    objects = rendered["gpu"]
    worker = find(objects, "Deployment", "aar-scorer-worker")
    worker["spec"]["template"]["spec"]["containers"][0]["resource"] = {}  # a typo: unknown field
    find(objects, "Service", "aar-scorer")["spec"]["ports"][0]["port"] = "eighty"  # wrong type
    find(objects, "Job", "aar-campaign")["apiVersion"] = "batch/v2"  # no such API
    errors = "\n".join(schema_errors(objects))
    assert "Deployment/aar-scorer-worker" in errors and "resource" in errors
    assert "Service/aar-scorer" in errors
    assert "Job/aar-campaign" in errors
