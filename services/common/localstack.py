"""Run the services on this machine as child processes: the embedded default behind ``aar campaign run``,
the benchmarks and the integration tests.

Each service is started through the ``aar`` command in its own process group (so a stop reaches the
Celery pool child too), logs to a file, and is considered up once its ``/healthz`` answers 200.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from services.common.tokens import admin_token


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until(predicate: Callable[[], object], timeout: float, what: str, poll: float = 0.2):
    """Poll ``predicate`` until it returns something truthy (returned) or raise ``TimeoutError``."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(poll)
    raise TimeoutError(f"timed out after {timeout:.0f} s waiting for {what}")


def aar_command() -> list[str]:
    """How to run ``aar`` with this interpreter (the console script beside it, or ``-m``)."""
    script = Path(sys.executable).parent / "aar"
    return [str(script)] if script.exists() else [sys.executable, "-m", "aar"]


@dataclass
class Service:
    """One ``aar …`` process with a log file and an optional health URL."""

    name: str
    args: list[str]
    env: dict[str, str]
    log_path: Path
    health_url: str | None = None
    proc: subprocess.Popen | None = field(default=None, repr=False)

    def start(self) -> Service:
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.log_path, "ab") as log:
            self.proc = subprocess.Popen(
                [*aar_command(), *self.args],
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )
        return self

    @property
    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def healthy(self) -> bool:
        """Whether ``/healthz`` answers 200; raises if the process has exited."""
        if not self.alive:
            raise RuntimeError(f"{self.name} exited: {self.tail()}")
        if not self.health_url:
            return True
        try:
            return httpx.get(self.health_url, timeout=2).status_code == 200
        except httpx.HTTPError:
            return False

    def wait_healthy(self, timeout: float = 120) -> Service:
        if self.health_url:
            wait_until(self.healthy, timeout, f"{self.name} {self.health_url}")
        return self

    def signal(self, sig: int) -> None:
        """Send ``sig`` to the whole process group and wait for the leader to exit."""
        if self.proc is None:
            return
        try:
            os.killpg(self.proc.pid, sig)
        except ProcessLookupError:
            pass
        self.proc.wait(30)

    def stop(self, grace_s: float = 20) -> None:
        """SIGTERM the process group, then SIGKILL after ``grace_s``. Idempotent."""
        proc = self.proc
        if proc is None or proc.poll() is not None:
            return
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(grace_s)
        except subprocess.TimeoutExpired:
            self.signal(signal.SIGKILL)

    def tail(self, chars: int = 3000) -> str:
        return self.log_path.read_text(errors="replace")[-chars:] if self.log_path.exists() else ""


class LocalStack:
    """Scorer API, scorer worker(s) and forum API on free 127.0.0.1 ports, sharing one environment.

    ``env`` adds to (and overrides) this process's environment; every service reads ``AAR_HOME``,
    ``AAR_ADMIN_TOKEN``, ``DATABASE_URL`` and ``REDIS_URL`` from it (unset URLs mean the embedded default).
    """

    def __init__(self, home: Path, env: dict[str, str] | None = None, log_dir: Path | None = None):
        self.home = home
        self.env = {**os.environ, "AAR_HOME": str(home), **(env or {})}
        self.log_dir = log_dir or home / "logs"
        self.scorer_port, self.forum_port = free_port(), free_port()
        self.scorer_url = f"http://127.0.0.1:{self.scorer_port}"
        self.forum_url = f"http://127.0.0.1:{self.forum_port}"
        self.env.setdefault("AAR_SCORER_URL", self.scorer_url)
        self.services: list[Service] = []

    @property
    def admin_token(self) -> str:
        return admin_token(self.home, self.env.get("AAR_ADMIN_TOKEN") or None)

    def _service(self, name: str, args: list[str], health_url: str | None = None) -> Service:
        service = Service(name, args, self.env, self.log_dir / f"{name}.log", health_url).start()
        self.services.append(service)
        return service

    def start_scorer_api(self) -> Service:
        return self._service(
            "scorer-api", ["scorer", "api", "--port", str(self.scorer_port)], f"{self.scorer_url}/healthz"
        ).wait_healthy()

    def start_worker(self) -> Service:
        index = sum(s.name.startswith("scorer-worker") for s in self.services)
        return self._service(f"scorer-worker-{index}", ["scorer", "worker"])

    def start_forum_api(self) -> Service:
        return self._service(
            "forum-api", ["forum", "api", "--port", str(self.forum_port)], f"{self.forum_url}/healthz"
        ).wait_healthy()

    def start(self, forum: bool = True) -> LocalStack:
        """Start the scorer API and one worker (and the forum), waiting until the APIs are healthy."""
        self.start_scorer_api()
        self.start_worker()
        if forum:
            self.start_forum_api()
        return self

    def stop(self) -> None:
        for service in reversed(self.services):
            service.stop()

    def logs(self) -> str:
        return "\n".join(f"--- {s.name}\n{s.tail()}" for s in self.services)

    def __enter__(self) -> LocalStack:
        return self

    def __exit__(self, *exc) -> None:
        self.stop()
