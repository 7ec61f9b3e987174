"""``docker compose down`` and a Kubernetes pod's end send SIGTERM. On d4820ad it killed ``aar campaign run``
at once, leaving the agents' sandboxes running (issue 26). Now SIGTERM stops the campaign like ``STOP``:
every agent ends, its workspace is snapshotted, its sandbox removed, the embedded services stopped."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time

from sandbox.state import live
from services.common.localstack import aar_command, wait_until
from workers.agent.transcript import read_records


def test_sigterm_stops_the_campaign_and_removes_its_sandboxes(tmp_path, aar_home):
    home = tmp_path / "home"
    home.mkdir()
    (home / "cache").symlink_to(aar_home / "cache", target_is_directory=True)
    env = {
        **os.environ,
        "AAR_HOME": str(home),
        "AAR_SCORER_SEEDS": "2",
        "AAR_SCORER_TEACHER_POOL": "4",
        "AAR_DEVICE": "cpu",
        "DATABASE_URL": "",
        "REDIS_URL": "",
        "ANTHROPIC_API_KEY": "",
        "AAR_ADMIN_TOKEN": "",
        "AAR_SCORER_URL": "",
        "AAR_FORUM_URL": "",
    }
    args = ["campaign", "run", "--no-live", "--agents", "2", "--experiments", "20", "--backend", "offline"]
    log = (tmp_path / "campaign.log").open("wb")
    proc = subprocess.Popen([*aar_command(), *args], env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        records = lambda: sorted((home / "campaigns").glob("*/agents/*.json"))  # noqa: E731
        wait_until(lambda: len(records()) == 2 or proc.poll() is not None, 600, "both sandboxes")
        assert proc.poll() is None, (tmp_path / "campaign.log").read_text()[-3000:]
        folder = records()[0].parents[1]
        label = json.loads((folder / "campaign.json").read_text())["id"]
        assert len(live(home / "sandboxes", label)) == 2
        time.sleep(2)  # the agents are at work
        proc.send_signal(signal.SIGTERM)
        started = time.monotonic()
        proc.wait(120)
        took = time.monotonic() - started
    finally:
        if proc.poll() is None:
            proc.kill()
        log.close()
    assert live(home / "sandboxes", label) == [], f"sandboxes left running {took:.0f} s after SIGTERM"
    for transcript in (folder / "transcripts").glob("*.jsonl"):
        assert read_records(transcript)[-1].reason == "stopped"
    leftover = subprocess.run(["pgrep", "-f", str(home)], capture_output=True, text=True).stdout.split()
    assert leftover == [], f"processes of the campaign left: {leftover}"
