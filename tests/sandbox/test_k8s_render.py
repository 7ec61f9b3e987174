"""The Kubernetes renderer: manifests checked against the "restricted" Pod Security Standard (no cluster)."""

import json

import pytest

from sandbox import Endpoint, NetworkPolicy, SandboxSpec
from sandbox.providers.k8s import render, render_network_policy, render_pod

RESTRICTED_VOLUMES = {
    "configMap",
    "csi",
    "downwardAPI",
    "emptyDir",
    "ephemeral",
    "persistentVolumeClaim",
    "projected",
    "secret",
}


def restricted_violations(pod: dict) -> list[str]:
    """The rules of the restricted profile (Kubernetes Pod Security Standards, v1.30) that ``pod`` breaks."""
    spec, bad = pod["spec"], []
    for key in ("hostNetwork", "hostPID", "hostIPC"):
        if spec.get(key):
            bad.append(key)
    pod_sc = spec.get("securityContext", {})
    for volume in spec.get("volumes", []):
        if not set(volume) - {"name"} <= RESTRICTED_VOLUMES:
            bad.append(f"volume {volume['name']}")
    for c in spec["containers"] + spec.get("initContainers", []):
        sc = c.get("securityContext", {})
        if sc.get("privileged"):
            bad.append("privileged")
        if sc.get("allowPrivilegeEscalation") is not False:
            bad.append("allowPrivilegeEscalation")
        if not (sc.get("runAsNonRoot") or pod_sc.get("runAsNonRoot")):
            bad.append("runAsNonRoot")
        if 0 in (sc.get("runAsUser"), pod_sc.get("runAsUser")):
            bad.append("runAsUser 0")
        if sc.get("capabilities", {}).get("drop") != ["ALL"] or set(sc.get("capabilities", {}).get("add", [])) - {
            "NET_BIND_SERVICE"
        }:  # noqa: E501
            bad.append("capabilities")
        profile = (sc.get("seccompProfile") or pod_sc.get("seccompProfile") or {}).get("type")
        if profile not in ("RuntimeDefault", "Localhost"):
            bad.append("seccompProfile")
        if c.get("ports") and any("hostPort" in p for p in c["ports"]):
            bad.append("hostPort")
    return bad


@pytest.mark.parametrize("runtime_class", [None, "gvisor"])
def test_pod_is_restricted_and_hardened(runtime_class):
    spec = SandboxSpec(label="run-1", memory_mb=2048, cpus=1.5, disk_mb=4096, tmp_mb=256, gpu=True, env={"A": "b"})
    pod = render_pod(spec, "abc123", image="aar-sandbox:latest", runtime_class=runtime_class)
    assert restricted_violations(pod) == []
    s, c = pod["spec"], pod["spec"]["containers"][0]
    assert s.get("runtimeClassName") == runtime_class
    assert s["automountServiceAccountToken"] is False
    assert c["securityContext"]["readOnlyRootFilesystem"] is True
    assert c["resources"]["limits"] == {
        "cpu": "1.5",
        "memory": "2048Mi",
        "ephemeral-storage": "4096Mi",
        "nvidia.com/gpu": "1",
    }
    assert {v["name"]: v["emptyDir"] for v in s["volumes"]} == {
        "workspace": {"sizeLimit": "4096Mi"},
        "tmp": {"medium": "Memory", "sizeLimit": "256Mi"},
    }
    assert pod["metadata"]["labels"]["aar.label"] == "run-1"
    assert {"name": "A", "value": "b"} in c["env"]


def test_a_hostpath_or_root_pod_is_caught():
    pod = render_pod(SandboxSpec(label="x"), "id", image="img")
    pod["spec"]["volumes"].append({"name": "docker", "hostPath": {"path": "/var/run/docker.sock"}})
    pod["spec"]["containers"][0]["securityContext"].update(runAsUser=0, allowPrivilegeEscalation=True)
    assert set(restricted_violations(pod)) == {"volume docker", "runAsUser 0", "allowPrivilegeEscalation"}


def test_network_policy_denies_all_but_the_allow_list():
    none = render_network_policy(SandboxSpec(label="x"), "id")
    assert none["spec"]["policyTypes"] == ["Ingress", "Egress"]
    assert none["spec"]["ingress"] == [] and none["spec"]["egress"] == []
    spec = SandboxSpec(
        label="x",
        network=NetworkPolicy(
            mode="allow",
            allow=[
                Endpoint(name="scorer", host="aar-scorer", port=8100),
                Endpoint(name="forum", host="aar-forum", port=8200),
            ],
        ),
    )
    egress = render_network_policy(spec, "id")["spec"]["egress"]
    assert egress[0] == {
        "to": [{"podSelector": {"matchLabels": {"app.kubernetes.io/name": "aar-scorer"}}}],
        "ports": [{"protocol": "TCP", "port": 8100}],
    }
    assert egress[1]["ports"] == [{"protocol": "TCP", "port": 8200}]
    assert {p["port"] for p in egress[2]["ports"]} == {53}  # cluster DNS only


def test_render_is_plain_json_for_kubectl():
    docs = render(SandboxSpec(label="x"), "id", image="img", namespace="research")
    assert [d["kind"] for d in docs] == ["Pod", "NetworkPolicy"]
    assert all(d["metadata"]["namespace"] == "research" for d in docs)
    assert json.loads(json.dumps(docs)) == docs
