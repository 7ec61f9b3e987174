"""The provider-neutral conformance suite, against every provider that runs on this machine.

The Kubernetes module only renders manifests (no cluster here): see test_k8s_render.py.
"""

import pytest

from sandbox.conformance import CHECKS, run_conformance

# Known failures per provider, each with the reason. Empty today: both providers pass every check.
KNOWN_FAILURES: dict[str, dict[str, str]] = {"bwrap": {}, "docker": {}}


@pytest.mark.timeout(300)
def test_conformance(provider, label):
    results = run_conformance(provider, label)
    assert set(results) == set(CHECKS) | {"stop_idempotent_and_final"}
    known = KNOWN_FAILURES[provider.name]
    failed = {name: why for name, why in results.items() if why != "ok" and name not in known}
    assert failed == {}
    fixed = [name for name in known if results[name] == "ok"]
    assert fixed == [], f"known failures that now pass (remove them from the list): {fixed}"
