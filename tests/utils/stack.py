"""Real service processes for integration tests: a private Redis, a fresh Postgres database (or a private
Postgres cluster a test may restart), and the scorer API and worker started through the ``aar`` command, all
on 127.0.0.1."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import tempfile
import uuid
from contextlib import contextmanager
from pathlib import Path

from services.common.localstack import Service, free_port, wait_until

PG_ADMIN = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"


class RedisServer:
    """A redis-server of our own (no persistence), so tests can restart it without touching others."""

    def __init__(self, port: int | None = None):
        if shutil.which("redis-server") is None:
            raise RuntimeError("redis-server is not installed (Debian package redis-server)")
        self.port = port or free_port()
        self.proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> RedisServer:
        self.proc = subprocess.Popen(
            [
                "redis-server",
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--maxmemory-policy",
                "noeviction",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wait_until(lambda: _port_open(self.port), 10, f"redis on {self.port}")
        return self

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(10)

    def restart(self) -> None:
        """Stop and start again: with no persistence, everything queued in it is gone."""
        self.stop()
        self.start()


class PostgresCluster:
    """A Postgres 15 cluster of our own (``initdb`` in a folder under /tmp, trust auth, no fsync), so a test
    can restart or stop it without touching the machine's cluster. Needs root (it runs as ``postgres``)."""

    BIN = Path("/usr/lib/postgresql/15/bin")

    def __init__(self):
        self.port = free_port()
        self.root = Path(tempfile.mkdtemp(prefix="aar-pg-"))
        self.root.chmod(0o755)
        self.data = self.root / "data"

    @property
    def url(self) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/postgres"

    def _pg(self, *args: str) -> None:
        """Run a Postgres program as ``postgres``; its output (and the server's, which inherits it) to a file."""
        with open(self.root / "pg_ctl.out", "ab") as out:
            done = subprocess.run(["runuser", "-u", "postgres", "--", *args], stdout=out, stderr=out, timeout=120)
        if done.returncode:
            raise RuntimeError(f"{args[0]} failed: {(self.root / 'pg_ctl.out').read_text()[-2000:]}")

    def start(self) -> PostgresCluster:
        if not self.data.exists():
            self.data.mkdir()
            shutil.chown(self.data, "postgres", "postgres")
            self._pg(str(self.BIN / "initdb"), "-D", str(self.data), "-A", "trust", "-U", "postgres")
        options = f"-p {self.port} -k {self.data} -c listen_addresses=127.0.0.1 -c fsync=off"
        self._pg(
            str(self.BIN / "pg_ctl"), "-D", str(self.data), "-o", options, "-l", str(self.data / "log"), "-w", "start"
        )
        return self

    def restart(self) -> None:
        """A fast shutdown (every connection is cut) and a start."""
        self._pg(
            str(self.BIN / "pg_ctl"), "-D", str(self.data), "-l", str(self.data / "log"), "-m", "fast", "-w", "restart"
        )

    def stop(self) -> None:
        if (self.data / "postmaster.pid").exists():
            self._pg(str(self.BIN / "pg_ctl"), "-D", str(self.data), "-m", "immediate", "-w", "stop")
        shutil.rmtree(self.root, ignore_errors=True)


def _port_open(port: int) -> bool:
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) == 0


@contextmanager
def postgres_database():
    """A fresh database on the local Postgres 15, dropped afterwards. Fails (never skips) if Postgres is down."""
    import sqlalchemy as sa

    name = f"aar_test_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    try:
        yield f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"
    finally:
        from services.common.db import get_engine

        get_engine.cache_clear()
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


class ScorerStack:
    """``aar scorer api`` and ``aar scorer worker`` processes sharing one environment (``workers`` are
    the ``subprocess.Popen`` objects, so a test can kill one)."""

    def __init__(self, env: dict[str, str], log_dir: Path):
        self.env = {**os.environ, **env}
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_dir = log_dir
        self.admin_token = env["AAR_ADMIN_TOKEN"]
        self.services: list[Service] = []
        self.workers: list[subprocess.Popen] = []

    def _spawn(self, name: str, args: list[str], health_url: str | None = None) -> Service:
        service = Service(name, ["scorer", *args], self.env, self.log_dir / f"{name}.log", health_url).start()
        self.services.append(service)
        return service

    def start_api(self) -> None:
        self._spawn("api", ["api", "--port", str(self.port)], f"{self.url}/healthz").wait_healthy()

    def kill_api(self) -> None:
        """SIGKILL every API process (uvicorn and its children)."""
        for service in self.services:
            if service.name == "api" and service.alive:
                service.signal(signal.SIGKILL)

    def start_worker(self) -> subprocess.Popen:
        worker = self._spawn(f"worker-{len(self.workers)}", ["worker"]).proc
        self.workers.append(worker)
        return worker

    def kill_worker(self, worker: subprocess.Popen, sig: int = signal.SIGKILL) -> None:
        """Signal the worker's whole process group (the Celery main process and its pool child)."""
        next(s for s in self.services if s.proc is worker).signal(sig)

    def stop(self) -> None:
        for service in self.services:
            service.stop()

    def logs(self) -> str:
        return "\n".join(f"--- {p.name}\n{p.read_text()[-3000:]}" for p in sorted(self.log_dir.glob("*.log")))


def share_cache(home: Path, cache: Path) -> Path:
    """Point ``home``'s cache at ``cache`` (embeddings and baselines computed once per session); returns home."""
    cache.mkdir(parents=True, exist_ok=True)
    (home / "cache").symlink_to(cache, target_is_directory=True)
    return home


@contextmanager
def running(stack: ScorerStack):
    """Start the stack's API and one worker; print its logs if anything fails; stop it at the end."""
    try:
        stack.start_api()
        stack.start_worker()
        yield stack
    except Exception:
        print(stack.logs())
        raise
    finally:
        stack.stop()


def scorer_env(home: Path, **extra: str) -> dict[str, str]:
    """Environment for a test scorer: fast reconciliation, 2 runs from a pool of 4 teachers, CPU."""
    env = {
        "AAR_HOME": str(home),
        "AAR_ADMIN_TOKEN": f"admin-{uuid.uuid4().hex}",
        "AAR_DEVICE": "cpu",
        "AAR_SCORER_SEEDS": "2",
        "AAR_SCORER_TEACHER_POOL": "4",
        "AAR_SCORER_HEARTBEAT_S": "1",
        "AAR_SCORER_STALE_AFTER_S": "6",
        "AAR_SCORER_REQUEUE_AFTER_S": "4",
        "AAR_SCORER_RECONCILE_EVERY_S": "1",
        "AAR_SCORER_JOB_TIME_LIMIT_S": "900",  # a cold baseline cache on a loaded 2-core machine
    }
    env.update(extra)
    for key in ("DATABASE_URL", "REDIS_URL"):
        if key not in extra:
            env[key] = ""
    return env
