"""`docker compose up` for real: the images `make images` built (no registry), the whole stack on this
machine's Docker engine, and a smoke campaign through it (offline researchers in Docker sandboxes).

Fails, never skips, without the engine or the images: `.ci/run` starts dockerd and runs `make images`.
"""

from __future__ import annotations

import json
import secrets
import subprocess
import sys
import tempfile
import uuid
from importlib.metadata import version
from pathlib import Path

import httpx
import pytest

from services.common.localstack import free_port, wait_until
from services.forum.client import ForumClient
from services.scorer.client import ScorerClient
from workers.agent.backends.offline import CLAIM_TAG, TAG

pytestmark = pytest.mark.docker

REPO = Path(__file__).resolve().parents[2]
COMPOSE = str(Path(sys.executable).parent / "docker-compose")
IMAGES = (f"aar-runtime:{version('aar')}", "aar-sandbox:latest", "postgres:15-bookworm", "redis:7-bookworm")


def compose(stack: dict, *args: str, timeout: float = 600, check: bool = True) -> subprocess.CompletedProcess:
    argv = [COMPOSE, "-p", stack["project"], "--env-file", str(stack["env_file"]), *args]
    proc = subprocess.run(argv, cwd=REPO, capture_output=True, text=True, timeout=timeout, env={**stack["environ"]})
    if check and proc.returncode != 0:
        output = f"{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
        raise AssertionError(f"{' '.join(args)} failed ({proc.returncode}):\n{output}")
    return proc


@pytest.fixture(scope="module")
def stack():
    info = subprocess.run(["docker", "info"], capture_output=True, text=True)
    assert info.returncode == 0, f"no Docker engine: {info.stderr.strip()[-300:]}"
    missing = [t for t in IMAGES if subprocess.run(["docker", "image", "inspect", t], capture_output=True).returncode]
    assert not missing, f"images missing: {missing}; run `make images`"
    project = f"aarsmoke{uuid.uuid4().hex[:8]}"
    home = Path(tempfile.mkdtemp(prefix="aar-compose-", dir="/var/tmp"))  # bind-mounted at the same path
    ports = {"AAR_SCORER_PORT": free_port(), "AAR_FORUM_PORT": free_port(), "AAR_DASHBOARD_PORT": free_port()}
    settings = {
        "COMPOSE_PROJECT_NAME": project,
        "COMPOSE_PROFILES": "cpu",
        "POSTGRES_PASSWORD": secrets.token_hex(16),
        "AAR_ADMIN_TOKEN": secrets.token_hex(24),
        "AAR_AGENTS": "2",
        "AAR_EXPERIMENTS": "1",
        "AAR_SCORER_SEEDS": "2",
        "AAR_HOST_HOME": str(home),
        "AAR_PIP_NO_INDEX": "1",
        "AAR_VERSION": version("aar"),
        **{k: str(v) for k, v in ports.items()},
    }
    env_file = home / "smoke.env"
    env_file.write_text("".join(f"{k}={v}\n" for k, v in settings.items()))
    environ = {"PATH": "/usr/local/bin:/usr/bin:/bin", "HOME": str(home), "AAR_ENV_FILE": str(env_file)}
    stack = {"project": project, "env_file": env_file, "environ": environ, "home": home, **settings}
    stack["scorer_url"] = f"http://127.0.0.1:{ports['AAR_SCORER_PORT']}"
    stack["forum_url"] = f"http://127.0.0.1:{ports['AAR_FORUM_PORT']}"
    stack["dashboard_url"] = f"http://127.0.0.1:{ports['AAR_DASHBOARD_PORT']}"
    try:
        compose(stack, "up", "-d", "--pull", "never", "--no-build", timeout=300)
        yield stack
    except BaseException:
        print(compose(stack, "logs", "--no-color", "--tail", "60", check=False).stdout[-20000:])
        raise
    finally:
        compose(stack, "down", "-v", "--remove-orphans", "--timeout", "10", check=False, timeout=300)
        for campaign in (home / "campaigns").glob("*/campaign.json"):
            label = json.loads(campaign.read_text())["id"]
            ids = subprocess.run(
                ["docker", "ps", "-aq", "--filter", f"label=aar.label={label}"], capture_output=True, text=True
            ).stdout.split()
            if ids:
                subprocess.run(["docker", "rm", "-f", *ids], capture_output=True)
        subprocess.run(["rm", "-rf", str(home)], capture_output=True)


def healthy(url: str) -> bool:
    try:
        return httpx.get(f"{url}/healthz", timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


def test_compose_stack_runs_a_smoke_campaign(stack):
    for name in ("scorer_url", "forum_url", "dashboard_url"):
        wait_until(lambda name=name: healthy(stack[name]), 300, f"{name} /healthz")
    finished = compose(stack, "wait", "campaign", timeout=1500, check=False)
    logs = compose(stack, "logs", "--no-color", "campaign", check=False).stdout
    assert finished.returncode == 0 and finished.stdout.strip().endswith("0"), logs[-5000:]

    campaigns = list((stack["home"] / "campaigns").glob("*/campaign.json"))
    assert len(campaigns) == 1
    plan = json.loads(campaigns[0].read_text())
    agents = [a["name"] for a in plan["agents"]]
    assert plan["sandbox"] == "docker" and plan["backend"] == "offline" and len(agents) == 2
    report = campaigns[0].parent / "report" / "report.md"
    assert report.exists() and all(a in report.read_text() for a in agents)

    token = stack["AAR_ADMIN_TOKEN"]
    with ScorerClient(stack["scorer_url"], token) as scorer, ForumClient(stack["forum_url"], token) as forum:
        for agent in agents:
            subs = scorer.submissions(task="rt-polarity", agent=agent).data
            assert len(subs) == 1 and subs[0].status == "done", subs
        posts = [p for p in forum.iter_posts(tag=TAG) if p.author in agents]
        claims = [p for p in posts if CLAIM_TAG in p.tags]
        results = [p for p in posts if CLAIM_TAG not in p.tags]
        # each researcher claims its configuration before scoring it, then posts the outcome
        assert sorted(p.author for p in claims) == sorted(agents) and all(p.type == "hypothesis" for p in claims)
        assert sorted(p.author for p in results) == sorted(agents)
        assert any(p.verified is not None for p in results)
    leftovers = subprocess.run(
        ["docker", "ps", "-aq", "--filter", f"label=aar.label={plan['id']}"], capture_output=True, text=True
    ).stdout.split()
    assert leftovers == []  # every sandbox container was removed when its agent ended
    states = compose(stack, "ps", "--format", "json").stdout
    services = [json.loads(line) for line in states.splitlines() if line.strip()]
    health = {s["Service"]: s.get("Health") for s in services}
    for service in ("postgres", "redis", "scorer-api", "scorer-worker", "forum", "dashboard"):
        assert health.get(service) == "healthy", health
