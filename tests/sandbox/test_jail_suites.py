"""The escape suite and the exec checks of the conformance suite, run against the scorer's method jail
(issue 25): the same checks as for sandboxes, through ``JailSandbox``, which runs each command as one jail
call. A jail has no persistent ``/workspace`` (every run starts empty, and runs share nothing), so the
checks about the workspace, files kept between calls and output kept past a timeout do not apply; the
jail's own attack tests (``tests/services/scorer/test_jail_attacks.py``) cover its tmpfs caps, process and
memory limits."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from sandbox import jail
from sandbox.base import ExecResult, Sandbox, SandboxSpec
from sandbox.conformance import CHECKS
from sandbox.escape import ESCAPE_CHECKS, escape_spec
from sandbox.runtime import RuntimeSpec
from w2s.datasets import label_data_paths

PROBE = '''
"""Runs one command inside the jail; its result as JSON bytes."""
import json, os, subprocess


def main(argv, stdin, env, timeout):
    try:
        done = subprocess.run(
            argv, input=stdin, capture_output=True, timeout=timeout, env={**os.environ, **env}, cwd="/tmp"
        )
        code, out, err, timed_out = done.returncode, done.stdout, done.stderr, False
    except subprocess.TimeoutExpired as exc:
        code, out, err, timed_out = -9, exc.stdout or b"", exc.stderr or b"", True
    except FileNotFoundError as exc:
        code, out, err, timed_out = 127, b"", str(exc).encode(), False
    except PermissionError as exc:
        code, out, err, timed_out = 126, b"", str(exc).encode(), False
    return json.dumps(
        {"exit_code": code, "stdout": out.decode(errors="replace"), "stderr": err.decode(errors="replace"),
         "timed_out": timed_out}
    ).encode()
'''
# The checks that hold for any isolation of one call (the others are about a persistent workspace).
JAIL_ESCAPE_CHECKS = (
    "no_capabilities_no_docker_socket",
    "host_processes_invisible",
    "label_data_unreachable",
    "host_loopback_services_unreachable",
    "memory_bomb_oom_killed",
    "checkout_root_invisible",
    "kernel_reconfiguration_refused",
)
JAIL_CONFORMANCE_CHECKS = ("exec_output_and_exit_code", "exec_signal_exit", "exec_not_found_and_not_executable")


class JailSandbox(Sandbox):
    """A ``Sandbox`` whose every command is one call in a fresh method jail (no state between calls)."""

    def __init__(self, spec: SandboxSpec, runtime: RuntimeSpec):
        super().__init__("jail", spec, Path("/nonexistent"), {})
        self.runtime = runtime

    def exec(self, cmd, *, stdin=None, cwd=None, env=None, timeout=None, user=None) -> ExecResult:
        argv = ["/bin/sh", "-c", cmd] if isinstance(cmd, str) else list(cmd)
        data = stdin.encode() if isinstance(stdin, str) else stdin
        limit = timeout or 120
        result = jail.run(
            {},
            "jailprobe:main",
            [argv, data.decode() if data is not None else None, dict(env or {}), limit],
            runtime=self.runtime,
            timeout_s=limit + 30,
            memory_mb=self.spec.memory_mb,
            pids=self.spec.pids,
            tmp_mb=self.spec.tmp_mb,
        )
        if result.memory_killed:
            return ExecResult(exit_code=-9, stdout="", stderr="killed: out of memory")
        assert result.status == "ok" and result.value is not None, (result.status, result.error, result.stderr)
        return ExecResult(**json.loads(result.value))

    def _read_bytes(self, path: str, max_bytes: int) -> bytes:
        r = self.exec(["cat", path])
        if r.exit_code:
            raise FileNotFoundError(path)
        return r.stdout.encode()[:max_bytes]

    def read_range(self, path, offset, length):
        raise NotImplementedError("a jail keeps no files between calls")

    def _write_bytes(self, path, data):
        raise NotImplementedError("a jail keeps no files between calls")

    def _exec_stream(self, *args, **kwargs):
        raise NotImplementedError

    def stop(self) -> None:
        pass


@pytest.fixture(scope="module")
def jail_sandbox(tmp_path_factory):
    package = tmp_path_factory.mktemp("probe") / "jailprobe"
    package.mkdir()
    (package / "__init__.py").write_text(PROBE)
    spec = escape_spec("jail-suites", hidden=[str(p) for p in label_data_paths()], memory_mb=512, pids=128)
    return JailSandbox(spec, RuntimeSpec(packages=(package,)))


@pytest.mark.parametrize("check", JAIL_ESCAPE_CHECKS)
def test_escape_check_in_the_jail(jail_sandbox, check):
    ESCAPE_CHECKS[check](jail_sandbox)


@pytest.mark.parametrize("check", JAIL_CONFORMANCE_CHECKS)
def test_conformance_check_in_the_jail(jail_sandbox, check):
    CHECKS[check](jail_sandbox)
