"""The scorer worker's Localhost seccomp profile: shipped as built, the runtime default plus the jail's needs."""

import json

import pytest

from aar.k8s.checks import namespace_problems, shipped_seccomp_profiles
from aar.k8s.render import ROOT
from aar.k8s.seccomp import (
    ARCH_SPECIFIC,
    JAIL,
    LEFT_OUT,
    LOCALHOST_PROFILE,
    PATH,
    REFUSED,
    RUNTIME_DEFAULT,
    allowed,
    render,
)
from tests.k8s.conftest import ALL, find

# The OCI runtime spec's LinuxSeccomp fields: what containerd reads (it ignores anything else, silently).
OCI_PROFILE_KEYS = {
    "defaultAction",
    "defaultErrnoRet",
    "architectures",
    "flags",
    "listenerPath",
    "listenerMetadata",
    "syscalls",
}
OCI_RULE_KEYS = {"names", "action", "errnoRet", "args"}


def _shipped() -> dict:
    return json.loads(PATH.read_text())


def test_the_shipped_file_is_what_the_module_builds():
    assert PATH.read_text() == render()
    assert shipped_seccomp_profiles() == {LOCALHOST_PROFILE}


def test_the_profile_is_in_the_oci_format_only():
    """Docker's extensions (archMap, includes/excludes by capability) would be ignored by containerd, turning a
    capability-conditional rule into an unconditional one."""
    data = _shipped()
    assert set(data) <= OCI_PROFILE_KEYS
    assert all(set(rule) <= OCI_RULE_KEYS for rule in data["syscalls"])
    assert data["defaultAction"] == "SCMP_ACT_ERRNO"  # refuse what is not listed
    assert {rule["action"] for rule in data["syscalls"]} == {"SCMP_ACT_ALLOW"}


def test_it_is_the_runtime_default_plus_the_jail():
    data = _shipped()
    assert allowed(data) == (set(RUNTIME_DEFAULT) - LEFT_OUT) | set(ARCH_SPECIFIC) | {"personality"} | set(JAIL)
    unconditional = {n for rule in data["syscalls"] if not rule.get("args") for n in rule["names"]}
    assert set(JAIL) <= unconditional  # namespace flags included: clone3's are not even visible to seccomp
    assert {"clone", "clone3", "unshare", "mount", "umount2", "pivot_root", "setns"} <= set(JAIL)
    assert not allowed(data) & REFUSED
    assert {
        "bpf",
        "keyctl",
        "ptrace",
        "perf_event_open",
        "io_uring_setup",
        "userfaultfd",
        "open_by_handle_at",
        "init_module",
        "kexec_load",
        "chroot",
        "fsopen",
    } <= REFUSED


@pytest.mark.parametrize("overlay", ALL)
def test_the_worker_uses_it(rendered, overlay):
    spec = find(rendered[overlay], "Deployment", "aar-scorer-worker")["spec"]["template"]["spec"]
    assert spec["securityContext"]["seccompProfile"] == {"type": "Localhost", "localhostProfile": LOCALHOST_PROFILE}


def test_a_profile_that_is_not_shipped_is_a_problem(rendered):
    objects = rendered["gpu"]
    spec = find(objects, "Deployment", "aar-scorer-worker")["spec"]["template"]["spec"]
    spec["securityContext"]["seccompProfile"]["localhostProfile"] = "profiles/typo.json"
    assert namespace_problems(objects) == [
        "Deployment/aar-scorer-worker: seccomp profile profiles/typo.json is not shipped under k8s/"
    ]


def test_the_docs_say_where_to_install_it():
    install_path = "/var/lib/kubelet/seccomp/" + LOCALHOST_PROFILE
    for doc in (ROOT / "README.md", PATH.parent / "README.md", ROOT.parent / "docs" / "kubernetes.md"):
        assert install_path in doc.read_text(), doc
