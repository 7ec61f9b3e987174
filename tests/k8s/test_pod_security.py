"""Pod Security: `aar` enforces restricted and every pod there meets it; the scorer worker alone runs in
`aar-scoring`, which enforces baseline, and deviates from restricted only where its method jail needs it."""

import copy

import pytest

from aar.k8s.checks import namespace_problems
from aar.k8s.podsecurity import (
    admission_problems,
    baseline_violations,
    namespace_policies,
    pod_specs,
    restricted_violations,
    violations,
    workload_specs,
)
from aar.k8s.seccomp import LOCALHOST_PROFILE
from sandbox import SandboxSpec
from sandbox.providers.k8s import render_pod
from tests.k8s.conftest import ALL, find

WORKER = ("Deployment", "aar-scorer-worker")


def _worker_spec(objects) -> dict:
    return find(objects, *WORKER)["spec"]["template"]["spec"]


def test_namespaces_enforce_their_levels(rendered):
    for overlay in ALL:
        objects = rendered[overlay]
        assert namespace_policies(objects) == {"aar": ("restricted", "latest"), "aar-scoring": ("baseline", "latest")}
        # deviations from restricted in aar-scoring are reported on apply (warn) and in the audit log
        for mode in ("warn", "audit"):
            assert namespace_policies(objects, mode) == {
                "aar": ("restricted", "latest"),
                "aar-scoring": ("restricted", "latest"),
            }
        assert namespace_problems(objects) == []


@pytest.mark.parametrize("overlay", ALL)
def test_every_pod_is_admitted_by_its_own_namespace(rendered, overlay):
    assert admission_problems(rendered[overlay]) == []


@pytest.mark.parametrize("overlay", ALL)
def test_every_pod_but_the_worker_is_restricted_in_aar(rendered, overlay):
    where = {w: (ns, spec) for w, ns, spec in workload_specs(rendered[overlay])}
    assert len(where) >= 6  # scorer, worker, forum, dashboard, redis, campaign (+ postgres)
    assert where.pop("Deployment/aar-scorer-worker")[0] == "aar-scoring"  # the only pod there
    assert {w: ns for w, (ns, _) in where.items()} == {w: "aar" for w in where}
    assert {w: restricted_violations(spec) for w, (_, spec) in where.items()} == {w: [] for w in where}
    for _, spec in pod_specs(rendered[overlay]):
        assert spec["automountServiceAccountToken"] is False
        assert spec["securityContext"]["runAsUser"] != 0 and spec["securityContext"]["runAsNonRoot"] is True


@pytest.mark.parametrize("overlay", ALL)
def test_the_worker_relaxes_exactly_what_the_jail_needs(rendered, overlay):
    spec = _worker_spec(rendered[overlay])
    assert spec["hostUsers"] is False
    assert spec["securityContext"] == {
        "runAsNonRoot": True,
        "runAsUser": 10001,
        "runAsGroup": 10001,
        "fsGroup": 10001,
        "seccompProfile": {"type": "Localhost", "localhostProfile": LOCALHOST_PROFILE},
    }
    (worker,) = spec["containers"]
    assert not spec.get("initContainers") and not spec.get("ephemeralContainers")
    assert worker["securityContext"] == {
        "allowPrivilegeEscalation": False,
        "readOnlyRootFilesystem": True,
        "runAsNonRoot": True,
        "capabilities": {"drop": ["ALL"]},
        "procMount": "Unmasked",
    }
    assert not {"hostNetwork", "hostPID", "hostIPC"} & set(spec)
    assert {next(k for k in v if k != "name") for v in spec["volumes"]} <= {"emptyDir", "persistentVolumeClaim"}
    # baseline (from policy version 1.35) admits it; restricted refuses the unmasked /proc, and only that
    assert baseline_violations(spec) == []
    assert restricted_violations(spec) == ["container worker: procMount Unmasked"]
    # take the three relaxations back and what is left is a restricted pod
    strict = copy.deepcopy(spec)
    del strict["hostUsers"], strict["containers"][0]["securityContext"]["procMount"]
    strict["securityContext"]["seccompProfile"] = {"type": "RuntimeDefault"}
    assert restricted_violations(strict) == []


def test_baseline_admits_the_worker_only_from_policy_version_1_35(rendered):
    spec = _worker_spec(rendered["gpu"])
    assert baseline_violations(spec, "v1.35") == []
    assert baseline_violations(spec, "v1.34") == ["container worker: procMount Unmasked"]
    user_ns = copy.deepcopy(spec)
    del user_ns["hostUsers"]  # without a user namespace an unmasked /proc is refused at every version
    assert baseline_violations(user_ns) == ["container worker: procMount Unmasked"]
    unconfined = copy.deepcopy(spec)
    unconfined["securityContext"]["seccompProfile"] = {"type": "Unconfined"}  # would need `privileged`
    assert baseline_violations(unconfined) == ["pod seccompProfile Unconfined"]


def test_the_worker_would_be_refused_in_aar(rendered):
    objects = rendered["gpu"]
    find(objects, *WORKER)["metadata"]["namespace"] = "aar"
    assert admission_problems(objects) == ["Deployment/aar-scorer-worker: container worker: procMount Unmasked"]


def test_a_privileged_or_unlabelled_namespace_is_a_problem(rendered):
    objects = rendered["cpu"]
    labels = find(objects, "Namespace", "aar-scoring")["metadata"]["labels"]
    labels["pod-security.kubernetes.io/enforce"] = "privileged"
    assert namespace_problems(objects) == ["Namespace/aar-scoring: enforces no Pod Security level above privileged"]
    del labels["pod-security.kubernetes.io/enforce"]  # Pod Security Admission's default: privileged
    assert namespace_policies(objects)["aar-scoring"] == ("privileged", "latest")
    assert len(namespace_problems(objects)) == 1
    objects.remove(find(objects, "Namespace", "aar-scoring"))
    assert "Deployment/aar-scorer-worker: namespace aar-scoring is not in the render" in namespace_problems(objects)
    # a pod in a namespace the render lacks is held to restricted
    assert admission_problems(objects) == ["Deployment/aar-scorer-worker: container worker: procMount Unmasked"]


def test_sandbox_pods_from_the_generator_are_restricted_too():
    assert restricted_violations(render_pod(SandboxSpec(label="c1"), "abc", image="aar-sandbox:latest")["spec"]) == []


def _first(spec):
    return spec["containers"][0]


MUTATIONS = {
    "privileged": lambda s: _first(s)["securityContext"].update(privileged=True),
    "hostNetwork": lambda s: s.update(hostNetwork=True),
    "hostPID": lambda s: s.update(hostPID=True),
    "hostPath": lambda s: s["volumes"].append({"name": "sock", "hostPath": {"path": "/var/run/docker.sock"}}),
    "runAsUser 0": lambda s: s["securityContext"].update(runAsUser=0),
    "runAsNonRoot": lambda s: _first(s)["securityContext"].update(runAsNonRoot=False),
    "allowPrivilegeEscalation": lambda s: _first(s)["securityContext"].pop("allowPrivilegeEscalation"),
    "capabilities do not drop": lambda s: _first(s)["securityContext"]["capabilities"].update(drop=["NET_RAW"]),
    "capabilities add": lambda s: _first(s)["securityContext"]["capabilities"].update(add=["SYS_ADMIN"]),
    "seccompProfile": lambda s: _first(s)["securityContext"].update(seccompProfile={"type": "Unconfined"}),
    "procMount": lambda s: _first(s)["securityContext"].update(procMount="Unmasked"),
    "hostPort": lambda s: _first(s)["ports"].append({"containerPort": 80, "hostPort": 80}),
    "sysctl": lambda s: s["securityContext"].update(sysctls=[{"name": "kernel.msgmax", "value": "1"}]),
    "appArmorProfile": lambda s: _first(s)["securityContext"].update(appArmorProfile={"type": "Unconfined"}),
    "readinessProbe host": lambda s: _first(s)["readinessProbe"]["httpGet"].update(host="10.0.0.1"),
}
# What baseline (the worker's namespace) must still refuse, applied to the worker itself.
BASELINE_MUTATIONS = [
    "privileged",
    "hostNetwork",
    "hostPID",
    "hostPath",
    "capabilities add",
    "seccompProfile",
    "hostPort",
    "sysctl",
    "appArmorProfile",
]


@pytest.mark.parametrize("broken", MUTATIONS)
def test_the_checker_catches_each_violation(rendered, broken):
    spec = copy.deepcopy(find(rendered["gpu"], "Deployment", "aar-scorer")["spec"]["template"]["spec"])
    MUTATIONS[broken](spec)
    found = restricted_violations(spec)
    assert found and all(broken.split()[0] in v for v in found), found


@pytest.mark.parametrize("broken", BASELINE_MUTATIONS)
def test_baseline_still_refuses_the_dangerous_settings_in_the_worker(rendered, broken):
    spec = copy.deepcopy(_worker_spec(rendered["gpu"]))
    _first(spec).setdefault("ports", [])
    MUTATIONS[broken](spec)
    found = baseline_violations(spec)
    assert found and all(broken.split()[0] in v for v in found), found


def test_baseline_allows_its_capability_list_and_restricted_does_not(rendered):
    spec = copy.deepcopy(_worker_spec(rendered["cpu"]))
    _first(spec)["securityContext"]["capabilities"]["add"] = ["CHOWN"]
    assert baseline_violations(spec) == []
    assert "container worker: capabilities add ['CHOWN']" in restricted_violations(spec)


def test_user_namespaces_relax_only_what_pod_security_relaxes(rendered):
    """From 1.35, hostUsers false skips restricted's runAsNonRoot/runAsUser checks, never its procMount check."""
    spec = copy.deepcopy(find(rendered["gpu"], "Deployment", "aar-scorer")["spec"]["template"]["spec"])
    spec["securityContext"].update(runAsNonRoot=False, runAsUser=0)
    for c in spec["initContainers"] + spec["containers"]:
        del c["securityContext"]["runAsNonRoot"]
    assert restricted_violations(spec) == [
        "pod runAsUser 0",
        "container migrate: runAsNonRoot not true",
        "container api: runAsNonRoot not true",
    ]
    spec["hostUsers"] = False
    assert restricted_violations(spec) == []
    assert violations(spec, "restricted", "v1.34") != []
    _first(spec)["securityContext"]["procMount"] = "Unmasked"
    assert restricted_violations(spec) == ["container api: procMount Unmasked"]
    assert violations(spec, "privileged") == []
    with pytest.raises(ValueError, match="unknown Pod Security level"):
        violations(spec, "strict")


def test_the_checker_catches_a_privileged_root_pod():
    pod = {
        "containers": [{"name": "c", "image": "x", "securityContext": {"privileged": True}}],
        "volumes": [{"name": "root", "hostPath": {"path": "/"}}],
        "hostNetwork": True,
    }
    assert len(restricted_violations(pod)) >= 6
    assert set(baseline_violations(pod)) == {"hostNetwork", "volume root: hostPath", "container c: privileged"}
