"""Kubernetes: render a sandbox Pod and its NetworkPolicy (no client needed; apply them with kubectl).

The Pod meets the ``restricted`` Pod Security Standard: non-root uid 10001, no privilege escalation,
every capability dropped, the RuntimeDefault seccomp profile, a read-only root, only ``emptyDir``
volumes (``/workspace`` capped by ``sizeLimit`` and ``ephemeral-storage``, ``/tmp`` in memory), no
service-account token and no host namespaces. ``runtime_class`` (e.g. ``gvisor``) adds a kernel
boundary. The NetworkPolicy denies all ingress and allows egress only to the allow-list's pods
(``app.kubernetes.io/name: <host>``) on their ports, plus cluster DNS. Kubernetes has no per-pod pids limit (the
kubelet's ``podPidsLimit`` applies per node) and no swap for pods by default.
"""

from __future__ import annotations

from typing import Any

from sandbox.base import SANDBOX_UID, WORKDIR, SandboxSpec

APP = "aar-sandbox"


def _labels(spec: SandboxSpec, name: str) -> dict[str, str]:
    return {"app.kubernetes.io/name": APP, "aar.label": spec.label, "aar.id": name}


def render_pod(
    spec: SandboxSpec, name: str, *, image: str, namespace: str = "aar", runtime_class: str | None = None
) -> dict[str, Any]:
    """The sandbox Pod: one long-lived container that commands are exec'ed into."""
    limits = {"cpu": str(spec.cpus), "memory": f"{spec.memory_mb}Mi", "ephemeral-storage": f"{spec.disk_mb}Mi"}
    if spec.gpu:
        limits["nvidia.com/gpu"] = "1"
    env = {"HOME": WORKDIR, "AAR_SANDBOX_ID": name, **spec.env}
    pod: dict[str, Any] = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": f"aar-{name}", "namespace": namespace, "labels": _labels(spec, name)},
        "spec": {
            "automountServiceAccountToken": False,
            "enableServiceLinks": False,
            "hostNetwork": False,
            "hostPID": False,
            "hostIPC": False,
            "restartPolicy": "Never",
            "securityContext": {
                "runAsNonRoot": True,
                "runAsUser": SANDBOX_UID,
                "runAsGroup": SANDBOX_UID,
                "fsGroup": SANDBOX_UID,
                "seccompProfile": {"type": "RuntimeDefault"},
            },
            "containers": [
                {
                    "name": "sandbox",
                    "image": image,
                    "imagePullPolicy": "IfNotPresent",
                    "command": ["sleep", "infinity"],
                    "workingDir": WORKDIR,
                    "env": [{"name": k, "value": v} for k, v in env.items()],
                    "resources": {"limits": limits, "requests": dict(limits)},
                    "securityContext": {
                        "allowPrivilegeEscalation": False,
                        "privileged": False,
                        "readOnlyRootFilesystem": True,
                        "runAsNonRoot": True,
                        "capabilities": {"drop": ["ALL"]},
                        "seccompProfile": {"type": "RuntimeDefault"},
                    },
                    "volumeMounts": [{"name": "workspace", "mountPath": WORKDIR}, {"name": "tmp", "mountPath": "/tmp"}],
                }
            ],
            "volumes": [
                {"name": "workspace", "emptyDir": {"sizeLimit": f"{spec.disk_mb}Mi"}},
                {"name": "tmp", "emptyDir": {"medium": "Memory", "sizeLimit": f"{spec.tmp_mb}Mi"}},
            ],
        },
    }
    if runtime_class:
        pod["spec"]["runtimeClassName"] = runtime_class
    return pod


def render_network_policy(spec: SandboxSpec, name: str, *, namespace: str = "aar") -> dict[str, Any]:
    """Deny all ingress; egress only to the allow-list's pods and ports (none for ``mode: none``)."""
    egress = []
    if spec.network.mode == "allow":
        egress = [
            {
                "to": [{"podSelector": {"matchLabels": {"app.kubernetes.io/name": e.host}}}],
                "ports": [{"protocol": "TCP", "port": e.port}],
            }
            for e in spec.network.allow
        ]
        egress.append(
            {
                "to": [
                    {
                        "namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "kube-system"}},
                        "podSelector": {"matchLabels": {"k8s-app": "kube-dns"}},
                    }
                ],
                "ports": [{"protocol": "UDP", "port": 53}, {"protocol": "TCP", "port": 53}],
            }
        )
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": {"name": f"aar-{name}", "namespace": namespace, "labels": _labels(spec, name)},
        "spec": {
            "podSelector": {"matchLabels": {"aar.id": name}},
            "policyTypes": ["Ingress", "Egress"],
            "ingress": [],
            "egress": egress,
        },
    }


def render(
    spec: SandboxSpec, name: str, *, image: str, namespace: str = "aar", runtime_class: str | None = None
) -> list[dict[str, Any]]:  # noqa: E501
    """Pod and NetworkPolicy, ready for ``kubectl apply -f`` (as JSON or YAML)."""
    return [
        render_pod(spec, name, image=image, namespace=namespace, runtime_class=runtime_class),
        render_network_policy(spec, name, namespace=namespace),
    ]
