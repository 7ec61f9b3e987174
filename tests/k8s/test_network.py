"""The NetworkPolicies, evaluated: who may open which connection (default deny, then explicit allows), across
the two namespaces: `aar` (everything but the scorer worker) and `aar-scoring` (the worker)."""

import pytest

from aar.k8s.netpol import KUBE_DNS, External, Pod, allowed, namespace_labels, workload_pods
from sandbox import Endpoint, NetworkPolicy, SandboxSpec
from sandbox.providers.k8s import render, render_pod
from tests.k8s.conftest import ALL

INTERNET = External("203.0.113.7")  # a public address (documentation range, not excluded by our ipBlocks)
METADATA = External("169.254.169.254")  # cloud instance metadata
PRIVATE = External("10.0.0.1")  # e.g. the API server or a VPC host
PORTS = {"aar-scorer": 8100, "aar-forum": 8200, "aar-dashboard": 8300, "aar-redis": 6379, "aar-postgres": 5432}


def sandbox_pod() -> Pod:
    """Labelled exactly as the sandbox generator labels its pods."""
    pod = render_pod(SandboxSpec(label="c1"), "abc", image="aar-sandbox:latest")
    return Pod(pod["metadata"]["labels"], pod["metadata"]["namespace"])


def reachable(objects, src: Pod) -> set[str]:
    """The servers (name:port) and outside destinations ``src`` may connect to."""
    pods = workload_pods(objects)
    found = {
        f"{name}:{port}" for name, port in PORTS.items() if name in pods and allowed(objects, src, pods[name], port)
    }
    found |= {f"{name}:8100" for name in pods if name not in PORTS and allowed(objects, src, pods[name], 8100)}
    found |= {f"dns/{proto}" for proto in ("UDP", "TCP") if allowed(objects, src, KUBE_DNS, 53, proto)}
    for label, dst in (("internet", INTERNET), ("metadata", METADATA), ("private", PRIVATE)):
        found |= {f"{label}:{port}" for port in (80, 443, 8080) if allowed(objects, src, dst, port)}
    if allowed(objects, src, sandbox_pod(), 8100):
        found.add("sandbox")
    return found


DENY_ALL = {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]}
# Pods that are none of ours: another namespace, and a stray pod next to the worker.
STRANGERS = [
    Pod({"app.kubernetes.io/name": "aar-scorer-worker"}, "default"),
    Pod({"app.kubernetes.io/name": "aar-scorer-worker"}, "aar"),
    Pod({"app": "debug"}, "aar-scoring"),
    Pod({"app.kubernetes.io/name": "aar-scorer"}, "aar-scoring"),
]


def test_default_deny_covers_every_pod_of_each_namespace_both_ways(rendered):
    for overlay in ALL:
        objects = rendered[overlay]
        denies = {
            o["metadata"]["namespace"]: o["metadata"]["name"]
            for o in objects
            if o["kind"] == "NetworkPolicy" and o["spec"] == DENY_ALL
        }
        assert denies == {"aar": "aar-default-deny", "aar-scoring": "aar-scoring-default-deny"}
        assert set(denies) == set(namespace_labels(objects))
    only_deny = [o for o in rendered["gpu"] if o["kind"] != "NetworkPolicy" or o["spec"] == DENY_ALL]
    pods = workload_pods(rendered["gpu"])
    for src in [sandbox_pod(), pods["aar-campaign"], pods["aar-scorer-worker"]]:
        assert reachable(only_deny, src) == set()


@pytest.mark.parametrize("overlay", ALL)
def test_sandboxes_reach_only_the_scorer_and_the_forum(rendered, overlay):
    assert reachable(rendered[overlay], sandbox_pod()) == {"aar-scorer:8100", "aar-forum:8200", "dns/UDP", "dns/TCP"}


@pytest.mark.parametrize("mode", ["none", "allow"])
def test_the_generators_own_policy_does_not_widen_that(rendered, mode):
    """Policies add up: the per-sandbox policy from sandbox/providers/k8s.py, in either mode, opens nothing more."""
    endpoints = [
        Endpoint(name="scorer", host="aar-scorer", port=8100),
        Endpoint(name="forum", host="aar-forum", port=8200),
    ]
    network = NetworkPolicy(mode=mode, allow=endpoints if mode == "allow" else [])
    _, policy = render(SandboxSpec(label="c1", network=network), "abc", image="aar-sandbox:latest")
    objects = rendered["gpu"] + [policy]
    assert reachable(objects, sandbox_pod()) == {"aar-scorer:8100", "aar-forum:8200", "dns/UDP", "dns/TCP"}


@pytest.mark.parametrize("overlay", ALL)
def test_only_the_agent_workers_reach_the_internet_and_only_on_443(rendered, overlay):
    pods = workload_pods(rendered[overlay])
    outside = {
        name: {d for d in reachable(rendered[overlay], pod) if d.split(":")[0] in ("internet", "metadata", "private")}
        for name, pod in pods.items()
    }
    assert outside.pop("aar-campaign") == {"internet:443"}
    assert outside == {name: set() for name in outside}


@pytest.mark.parametrize("overlay", ["cpu", "gpu"])
def test_each_component_reaches_exactly_what_it_needs(rendered, overlay):
    objects, pods = rendered[overlay], workload_pods(rendered[overlay])
    assert pods["aar-scorer-worker"].namespace == "aar-scoring"
    assert {p.namespace for name, p in pods.items() if name != "aar-scorer-worker"} == {"aar"}
    dns = {"dns/UDP", "dns/TCP"}
    expected = {
        "aar-scorer-worker": {"aar-postgres:5432", "aar-redis:6379"} | dns,
        "aar-scorer": {"aar-postgres:5432", "aar-redis:6379"} | dns,
        "aar-forum": {"aar-postgres:5432", "aar-redis:6379", "aar-scorer:8100"} | dns,
        "aar-dashboard": {"aar-scorer:8100", "aar-forum:8200"} | dns,
        "aar-campaign": {"aar-scorer:8100", "aar-forum:8200", "internet:443"} | dns,
        "aar-redis": set(),
        "aar-postgres": set(),
    }
    assert {name: reachable(objects, pod) for name, pod in pods.items()} == expected


@pytest.mark.parametrize("overlay", ALL)
def test_nothing_may_connect_to_the_worker(rendered, overlay):
    objects, pods = rendered[overlay], workload_pods(rendered[overlay])
    worker = pods["aar-scorer-worker"]
    sources, ports = [*pods.values(), sandbox_pod(), *STRANGERS], (22, 53, 80, 443, 5555, 6379, 8100)
    assert not any(
        allowed(objects, src, worker, port, proto) for src in sources for port in ports for proto in ("TCP", "UDP")
    )


def test_the_data_stores_admit_the_worker_by_namespace_and_label(rendered):
    objects, pods = rendered["gpu"], workload_pods(rendered["gpu"])
    for store, port in (("aar-postgres", 5432), ("aar-redis", 6379)):
        assert allowed(objects, pods["aar-scorer-worker"], pods[store], port)
        # the same label in another namespace, or another pod next to the worker, is refused
        assert not any(allowed(objects, stranger, pods[store], port) for stranger in STRANGERS)
        # so is a stranger that some day gets egress: the data store's own ingress rule decides
        opened = objects + [
            {
                "kind": "NetworkPolicy",
                "metadata": {"name": "open", "namespace": s.namespace},
                "spec": {"podSelector": {}, "policyTypes": ["Egress"], "egress": [{}]},
            }
            for s in STRANGERS
        ]
        assert [allowed(opened, stranger, pods[store], port) for stranger in STRANGERS] == [False] * len(STRANGERS)


def test_the_worker_reaches_the_external_database_and_redis_only(rendered):
    objects, pods = rendered["external-postgres"], workload_pods(rendered["external-postgres"])
    assert "aar-postgres" not in pods
    assert reachable(objects, pods["aar-scorer-worker"]) == {"aar-redis:6379", "dns/UDP", "dns/TCP"}
    assert allowed(objects, pods["aar-scorer-worker"], External("192.0.2.10"), 5432)


def test_nothing_may_connect_to_a_sandbox(rendered):
    pods = workload_pods(rendered["gpu"])
    assert not any(
        allowed(rendered["gpu"], pod, sandbox_pod(), port)
        for pod in [*pods.values(), sandbox_pod()]
        for port in (22, 80, 8100, 8888)
    )


def test_external_postgres_is_reached_by_the_database_clients_only(rendered):
    objects, pods = rendered["external-postgres"], workload_pods(rendered["external-postgres"])
    database = External("192.0.2.10")
    clients = {name for name, pod in pods.items() if allowed(objects, pod, database, 5432)}
    assert clients == {"aar-scorer", "aar-scorer-worker", "aar-forum"}
    assert not allowed(objects, sandbox_pod(), database, 5432)
    assert not allowed(objects, pods["aar-scorer-worker"], database, 443)


def test_the_evaluator_follows_the_api_semantics():
    policy = {
        "kind": "NetworkPolicy",
        "metadata": {"name": "p", "namespace": "aar"},
        "spec": {
            "podSelector": {"matchExpressions": [{"key": "tier", "operator": "In", "values": ["web"]}]},
            "policyTypes": ["Egress"],
            "egress": [{"ports": [{"port": 8000, "endPort": 8010}]}],
        },
    }
    web, other = Pod({"tier": "web"}), Pod({"tier": "db"})
    assert allowed([policy], web, INTERNET, 8005) and not allowed([policy], web, INTERNET, 8011)
    assert not allowed([policy], web, INTERNET, 8005, "UDP")
    assert allowed([policy], other, INTERNET, 25)  # not selected: not isolated
    policy["spec"]["egress"][0]["ports"] = [{"port": "http"}]
    with pytest.raises(ValueError, match="named port"):
        allowed([policy], web, INTERNET, 80)
