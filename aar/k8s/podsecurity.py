"""The Pod Security Standards (``baseline`` and ``restricted``), checked on pod specs without a cluster.

Covers every control of the two profiles that a pod spec can break, as Pod Security Admission
(``k8s.io/pod-security-admission/policy``) evaluates them, including the version-dependent ones:

- baseline: host namespaces, privileged, added capabilities beyond the baseline list, hostPath volumes,
  host ports, AppArmor, SELinux, ``/proc`` mount type, seccomp ``Unconfined``, unsafe sysctls, Windows
  host process, and (policy version 1.34+) a ``host`` in probes and lifecycle handlers;
- restricted, on top: volume types, privilege escalation, running as non-root and as a non-zero uid,
  seccomp ``RuntimeDefault``/``Localhost``, dropping ALL capabilities, and (1.35+) never an unmasked /proc.

From policy version 1.35 a pod in a user namespace (``hostUsers: false``) is relaxed exactly three ways: the
baseline ``procMount`` check and the restricted ``runAsNonRoot`` and ``runAsUser`` checks are skipped. The
restricted ``procMount`` check is not relaxed: an unmasked /proc is admitted at ``baseline`` only.

Each pod is judged by the ``enforce`` label (level and version) of its own namespace; ``namespace_policies``
reads them from the rendered Namespace objects. Pod annotations (the old AppArmor and seccomp ones) are not
looked at: our manifests use the fields. A function returns what is broken, empty when compliant.
"""

from __future__ import annotations

from collections.abc import Iterator

LEVELS = ("privileged", "baseline", "restricted")
LATEST = "latest"
# What PSA assumes for a namespace without labels is `privileged`; for a namespace the render does not
# contain we assume the strictest level instead, so that nothing unchecked slips through.
UNKNOWN_NAMESPACE = ("restricted", LATEST)

BASELINE_CAPABILITIES = {
    "AUDIT_WRITE",
    "CHOWN",
    "DAC_OVERRIDE",
    "FOWNER",
    "FSETID",
    "KILL",
    "MKNOD",
    "NET_BIND_SERVICE",
    "SETFCAP",
    "SETGID",
    "SETPCAP",
    "SETUID",
    "SYS_CHROOT",
}
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
SAFE_SYSCTLS = {
    "kernel.shm_rmid_forced",
    "net.ipv4.ip_local_port_range",
    "net.ipv4.ip_unprivileged_port_start",
    "net.ipv4.tcp_syncookies",
    "net.ipv4.ping_group_range",
    "net.ipv4.ip_local_reserved_ports",
    "net.ipv4.tcp_keepalive_time",
    "net.ipv4.tcp_fin_timeout",
    "net.ipv4.tcp_keepalive_intvl",
    "net.ipv4.tcp_keepalive_probes",
}
SELINUX_TYPES = {"", "container_t", "container_init_t", "container_kvm_t", "container_engine_t"}
WORKLOADS = {"Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job"}
# Policy versions from which a check exists or changed (k8s.io/pod-security-admission/policy).
HOST_PROBES_FROM = (1, 34)
USER_NAMESPACE_RELAXATION_FROM = (1, 35)

ENFORCE = "pod-security.kubernetes.io/enforce"


def workload_specs(objects: list[dict]) -> Iterator[tuple[str, str | None, dict]]:
    """(``Kind/name``, namespace, pod spec) of every Pod, workload and CronJob in ``objects``."""
    for obj in objects:
        kind, meta = obj.get("kind"), obj.get("metadata", {})
        where, namespace = f"{kind}/{meta.get('name')}", meta.get("namespace")
        if kind == "Pod":
            yield where, namespace, obj["spec"]
        elif kind in WORKLOADS:
            yield where, namespace, obj["spec"]["template"]["spec"]
        elif kind == "CronJob":
            yield where, namespace, obj["spec"]["jobTemplate"]["spec"]["template"]["spec"]


def pod_specs(objects: list[dict]) -> Iterator[tuple[str, dict]]:
    """(``Kind/name``, pod spec) of every Pod, workload and CronJob in ``objects``."""
    for where, _, spec in workload_specs(objects):
        yield where, spec


def containers(spec: dict) -> list[dict]:
    return spec.get("initContainers", []) + spec.get("containers", []) + spec.get("ephemeralContainers", [])


def parse_version(version: str) -> tuple[int, int] | None:
    """``v1.35`` → (1, 35); ``latest`` → None (newer than any)."""
    if version == LATEST:
        return None
    major, minor = version.removeprefix("v").split(".")[:2]
    return int(major), int(minor)


def _from(version: str, minimum: tuple[int, int]) -> bool:
    parsed = parse_version(version)
    return parsed is None or parsed >= minimum


def _userns_relaxed(spec: dict, version: str) -> bool:
    return spec.get("hostUsers") is False and _from(version, USER_NAMESPACE_RELAXATION_FROM)


def _prefix(c: dict, problems: list[str]) -> list[str]:
    return [f"container {c.get('name')}: {p}" for p in problems]


def _baseline(spec: dict, version: str) -> list[str]:
    pod_sc = spec.get("securityContext") or {}
    bad = [key for key in ("hostNetwork", "hostPID", "hostIPC") if spec.get(key)]
    bad += [f"volume {v.get('name')}: hostPath" for v in spec.get("volumes", []) if "hostPath" in v]
    bad += [f"sysctl {s.get('name')}" for s in pod_sc.get("sysctls", []) if s.get("name") not in SAFE_SYSCTLS]
    if (pod_sc.get("seccompProfile") or {}).get("type") == "Unconfined":
        bad.append("pod seccompProfile Unconfined")
    if (pod_sc.get("appArmorProfile") or {}).get("type") == "Unconfined":
        bad.append("pod appArmorProfile Unconfined")
    if _bad_selinux(pod_sc.get("seLinuxOptions")):
        bad.append("pod seLinuxOptions")
    if (pod_sc.get("windowsOptions") or {}).get("hostProcess"):
        bad.append("pod hostProcess")
    for c in containers(spec):
        sc, found = c.get("securityContext") or {}, []
        if sc.get("privileged"):
            found.append("privileged")
        if added := sorted(set((sc.get("capabilities") or {}).get("add", [])) - BASELINE_CAPABILITIES):
            found.append(f"capabilities add {added}")
        found += [f"hostPort {p['hostPort']}" for p in c.get("ports", []) if p.get("hostPort")]
        if (sc.get("seccompProfile") or {}).get("type") == "Unconfined":
            found.append("seccompProfile Unconfined")
        if (sc.get("appArmorProfile") or {}).get("type") == "Unconfined":
            found.append("appArmorProfile Unconfined")
        if _bad_selinux(sc.get("seLinuxOptions")):
            found.append("seLinuxOptions")
        if (sc.get("windowsOptions") or {}).get("hostProcess"):
            found.append("hostProcess")
        if sc.get("procMount", "Default") != "Default" and not _userns_relaxed(spec, version):
            found.append(f"procMount {sc['procMount']}")
        if _from(version, HOST_PROBES_FROM):
            found += [f"{handler} host {host}" for handler, host in _hosts(c)]
        bad += _prefix(c, found)
    return bad


def _bad_selinux(options: dict | None) -> bool:
    options = options or {}
    return options.get("type", "") not in SELINUX_TYPES or bool(options.get("user") or options.get("role"))


def _hosts(c: dict) -> Iterator[tuple[str, str]]:
    handlers = [(p, c.get(p)) for p in ("livenessProbe", "readinessProbe", "startupProbe")]
    handlers += [(f"lifecycle.{h}", (c.get("lifecycle") or {}).get(h)) for h in ("postStart", "preStop")]
    for name, handler in handlers:
        for action in ("httpGet", "tcpSocket"):
            if host := ((handler or {}).get(action) or {}).get("host"):
                yield name, host


def _restricted(spec: dict, version: str) -> list[str]:
    pod_sc = spec.get("securityContext") or {}
    relaxed = _userns_relaxed(spec, version)
    bad = [
        f"volume {v.get('name')}: {sorted(set(v) - {'name'} - RESTRICTED_VOLUMES)[0]}"
        for v in spec.get("volumes", [])
        if set(v) - {"name"} - RESTRICTED_VOLUMES
    ]
    if pod_sc.get("runAsUser") == 0 and not relaxed:
        bad.append("pod runAsUser 0")
    for c in containers(spec):
        sc, found = c.get("securityContext") or {}, []
        merged = {**pod_sc, **sc}  # container settings override the pod's
        if sc.get("allowPrivilegeEscalation") is not False:
            found.append("allowPrivilegeEscalation not false")
        if merged.get("runAsNonRoot") is not True and not relaxed:
            found.append("runAsNonRoot not true")
        if sc.get("runAsUser") == 0 and not relaxed:
            found.append("runAsUser 0")
        caps = sc.get("capabilities") or {}
        if "ALL" not in caps.get("drop", []):
            found.append("capabilities do not drop ALL")
        if added := sorted(set(caps.get("add", [])) - {"NET_BIND_SERVICE"}):
            found.append(f"capabilities add {added}")
        if (merged.get("seccompProfile") or {}).get("type") not in ("RuntimeDefault", "Localhost"):
            found.append("seccompProfile not RuntimeDefault/Localhost")
        if sc.get("procMount", "Default") != "Default":  # never relaxed at this level
            found.append(f"procMount {sc['procMount']}")
        bad += _prefix(c, found)
    return bad


def violations(spec: dict, level: str = "restricted", version: str = LATEST) -> list[str]:
    """What in pod spec ``spec`` the ``level`` profile at policy ``version`` forbids; ``[]`` when admitted."""
    if level not in LEVELS:
        raise ValueError(f"unknown Pod Security level {level!r} (one of {', '.join(LEVELS)})")
    if level == "privileged":
        return []
    found = _baseline(spec, version) + (_restricted(spec, version) if level == "restricted" else [])
    return list(dict.fromkeys(found))  # a control both levels check is reported once


def restricted_violations(spec: dict) -> list[str]:
    """What in pod spec ``spec`` the ``restricted`` profile (latest) forbids; ``[]`` when it is compliant."""
    return violations(spec, "restricted")


def baseline_violations(spec: dict, version: str = LATEST) -> list[str]:
    """What in pod spec ``spec`` the ``baseline`` profile forbids; ``[]`` when it is compliant."""
    return violations(spec, "baseline", version)


def namespace_policies(objects: list[dict], mode: str = "enforce") -> dict[str, tuple[str, str]]:
    """Namespace name → (level, version) of its ``mode`` (enforce, audit, warn) Pod Security labels.

    A namespace without the label is ``privileged`` (what Pod Security Admission does); the version
    defaults to ``latest``.
    """
    policies = {}
    for obj in objects:
        if obj.get("kind") == "Namespace":
            labels = obj["metadata"].get("labels") or {}
            level = labels.get(f"pod-security.kubernetes.io/{mode}", "privileged")
            policies[obj["metadata"]["name"]] = (
                level,
                labels.get(f"pod-security.kubernetes.io/{mode}-version", LATEST),
            )
    return policies


def admission_problems(objects: list[dict]) -> list[str]:
    """Every pod checked against the enforced level of its own namespace (unknown namespaces: restricted)."""
    policies = namespace_policies(objects)
    bad = []
    for where, namespace, spec in workload_specs(objects):
        level, version = policies.get(namespace, UNKNOWN_NAMESPACE) if namespace else UNKNOWN_NAMESPACE
        bad += [f"{where}: {v}" for v in violations(spec, level, version)]
    return bad
