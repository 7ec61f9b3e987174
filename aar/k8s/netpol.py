"""Which connections the rendered NetworkPolicies allow, evaluated as the Kubernetes API defines them.

A pod is isolated for a direction once any policy selecting it lists that direction in ``policyTypes``;
then a connection needs a rule of some selecting policy that matches the peer and the port (policies add
up). A connection between two pods needs both the source's egress and the destination's ingress. Model:
an ``ipBlock`` matches ``External`` addresses only (pod addresses are assumed to be in private ranges that
our ipBlocks exclude), and named ports are refused rather than guessed.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field

from aar.k8s.podsecurity import WORKLOADS


@dataclass(frozen=True)
class Pod:
    """A pod by its labels; ``namespace_labels`` default to the automatic ``kubernetes.io/metadata.name``."""

    labels: dict[str, str]
    namespace: str = "aar"
    namespace_labels: dict[str, str] = field(default_factory=dict)

    def ns_labels(self) -> dict[str, str]:
        return {"kubernetes.io/metadata.name": self.namespace, **self.namespace_labels}


@dataclass(frozen=True)
class External:
    """An address outside the cluster (the LLM API, a cloud metadata service...)."""

    ip: str


KUBE_DNS = Pod({"k8s-app": "kube-dns"}, namespace="kube-system")


def selects(selector: dict | None, labels: dict[str, str]) -> bool:
    """Kubernetes label-selector semantics (``{}`` selects everything)."""
    selector = selector or {}
    if any(labels.get(k) != v for k, v in (selector.get("matchLabels") or {}).items()):
        return False
    for expr in selector.get("matchExpressions") or []:
        key, op, values = expr["key"], expr["operator"], expr.get("values") or []
        ok = {
            "In": key in labels and labels[key] in values,
            "NotIn": labels.get(key) not in values,
            "Exists": key in labels,
            "DoesNotExist": key not in labels,
        }[op]
        if not ok:
            return False
    return True


def _types(policy: dict) -> list[str]:
    spec = policy["spec"]
    return spec.get("policyTypes") or (["Ingress"] + (["Egress"] if "egress" in spec else []))


def _peer_matches(peer: dict, other: Pod | External, policy_ns: str) -> bool:
    if "ipBlock" in peer:
        if not isinstance(other, External):
            return False
        ip, block = ipaddress.ip_address(other.ip), peer["ipBlock"]
        return ip in ipaddress.ip_network(block["cidr"]) and not any(
            ip in ipaddress.ip_network(e) for e in block.get("except", [])
        )
    if not isinstance(other, Pod):
        return False
    if "namespaceSelector" in peer:
        in_ns = selects(peer["namespaceSelector"], other.ns_labels())
    else:
        in_ns = other.namespace == policy_ns
    return in_ns and ("podSelector" not in peer or selects(peer["podSelector"], other.labels))


def _port_matches(ports: list[dict] | None, port: int, protocol: str) -> bool:
    if not ports:
        return True
    for p in ports:
        if isinstance(p.get("port"), str):
            raise ValueError(f"named port {p['port']!r}: use numbers in NetworkPolicies")
        low = p.get("port")
        if p.get("protocol", "TCP") == protocol and (low is None or low <= port <= p.get("endPort", low)):
            return True
    return False


def _side_allows(
    policies: list[dict], pod: Pod, other: Pod | External, port: int, protocol: str, direction: str
) -> bool:
    key, peers = ("egress", "to") if direction == "Egress" else ("ingress", "from")
    selecting = [
        p
        for p in policies
        if p["metadata"].get("namespace", pod.namespace) == pod.namespace
        and selects(p["spec"].get("podSelector"), pod.labels)
        and direction in _types(p)
    ]
    if not selecting:
        return True
    for policy in selecting:
        ns = policy["metadata"].get("namespace", pod.namespace)
        for rule in policy["spec"].get(key) or []:
            if (not rule.get(peers) or any(_peer_matches(peer, other, ns) for peer in rule[peers])) and _port_matches(
                rule.get("ports"), port, protocol
            ):
                return True
    return False


def allowed(objects: list[dict], src: Pod, dst: Pod | External, port: int, protocol: str = "TCP") -> bool:
    """May ``src`` open a ``protocol`` connection to ``dst`` on ``port`` under the NetworkPolicies in ``objects``?"""
    policies = [o for o in objects if o.get("kind") == "NetworkPolicy"]
    if not _side_allows(policies, src, dst, port, protocol, "Egress"):
        return False
    return isinstance(dst, External) or _side_allows(policies, dst, src, port, protocol, "Ingress")


def namespace_labels(objects: list[dict]) -> dict[str, dict[str, str]]:
    """Namespace name → the labels the render gives it (``Pod`` adds ``kubernetes.io/metadata.name``)."""
    return {o["metadata"]["name"]: o["metadata"].get("labels") or {} for o in objects if o.get("kind") == "Namespace"}


def workload_pods(objects: list[dict]) -> dict[str, Pod]:
    """``app.kubernetes.io/name`` → the pod of every workload in ``objects`` (from its template's labels), in
    its namespace, with that namespace's labels from the render."""
    pods, ns_labels = {}, namespace_labels(objects)
    for obj in objects:
        if obj.get("kind") in WORKLOADS:
            labels, namespace = obj["spec"]["template"]["metadata"]["labels"], obj["metadata"].get("namespace", "aar")
            pods[labels["app.kubernetes.io/name"]] = Pod(labels, namespace, ns_labels.get(namespace, {}))
    return pods
