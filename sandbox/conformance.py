"""The provider-neutral conformance suite: every provider must pass it (known failures are listed, with
a reason, by whoever runs it). Modelled on inspect_ai's sandbox self-check.

``run_conformance(provider, label)`` starts one sandbox with small caps, runs every check in it and
returns check name → ``"ok"`` or the reason it failed. Checks clean up after themselves.
"""

from __future__ import annotations

import tarfile
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

from sandbox.base import (
    SANDBOX_USER,
    WORKDIR,
    Sandbox,
    SandboxProvider,
    SandboxSpec,
    SandboxUnavailableError,
    SizeLimitError,
)

MAX_OUTPUT = 64 * 1024
MAX_FILE = 8 * 1024 * 1024
CHECKS: dict[str, Callable[[Sandbox], None]] = {}


def check(fn: Callable[[Sandbox], None]) -> Callable[[Sandbox], None]:
    """Register a check under its function name."""
    CHECKS[fn.__name__] = fn
    return fn


def _raises(exc: type[BaseException], fn: Callable[[], object], needle: str = "") -> None:
    try:
        fn()
    except exc as e:
        assert needle in str(e), f"{exc.__name__} without {needle!r}: {e}"
        return
    raise AssertionError(f"expected {exc.__name__}")


def _roundtrip(sb: Sandbox, path: str, content: str | bytes) -> None:
    sb.write_file(path, content)
    got = sb.read_file(path, text=isinstance(content, str))
    assert got == content, f"{path}: read back {got[:40]!r}, wrote {content[:40]!r}"
    sb.exec(["rm", "-f", path])


@check
def file_text(sb: Sandbox) -> None:
    _roundtrip(sb, "text.txt", "great #content\nincluding newlines")


@check
def file_utf8(sb: Sandbox) -> None:
    _roundtrip(sb, "utf8.txt", "✨☽︎✨🌞︎︎✨🚀✨ é ü 中文")


@check
def file_binary(sb: Sandbox) -> None:
    _roundtrip(sb, "binary.bin", b"\xc3\x28\x00\xff" * 3)


@check
def file_large(sb: Sandbox) -> None:
    _roundtrip(sb, "large.bin", bytes(range(256)) * 20_000)  # 5 MB


@check
def file_empty(sb: Sandbox) -> None:
    _roundtrip(sb, "empty.txt", "")
    sb.exec(["touch", "touched"])
    assert sb.read_file("touched", text=False) == b""
    sb.exec(["rm", "touched"])


@check
def file_space_and_overwrite(sb: Sandbox) -> None:
    sb.write_file("with space.txt", "first")
    _roundtrip(sb, "with space.txt", "second")


@check
def file_nested_relative(sb: Sandbox) -> None:
    _roundtrip(sb, "nested/dir/file.txt", "relative")
    sb.exec(["rm", "-r", "nested"])


@check
def file_nested_absolute_tmp(sb: Sandbox) -> None:
    _roundtrip(sb, "/tmp/abs/dir/file.txt", "absolute")
    sb.exec(["rm", "-r", "/tmp/abs"])


@check
def file_missing(sb: Sandbox) -> None:
    _raises(FileNotFoundError, lambda: sb.read_file("nonexistent"), "nonexistent")
    _raises(FileNotFoundError, lambda: sb.read_file("https:/en.wikipedia.org/wiki/X%C5%82"), "wikipedia")


@check
def file_is_directory(sb: Sandbox) -> None:
    _raises(IsADirectoryError, lambda: sb.read_file("/etc"))
    sb.write_file("/tmp/adir/file", "x")
    _raises(IsADirectoryError, lambda: sb.write_file("/tmp/adir", "x"))
    sb.exec(["rm", "-r", "/tmp/adir"])


@check
def file_permissions(sb: Sandbox) -> None:
    sb.write_file("locked.txt", "secret")
    sb.exec(["chmod", "000", "locked.txt"])
    _raises(PermissionError, lambda: sb.read_file("locked.txt"), "locked.txt")
    _raises(PermissionError, lambda: sb.write_file("locked.txt", "new"), "locked.txt")
    sb.exec(["rm", "-f", "locked.txt"])
    _raises(PermissionError, lambda: sb.write_file("/usr/not-allowed", "x"))


@check
def file_size_caps(sb: Sandbox) -> None:
    _raises(SizeLimitError, lambda: sb.write_file("big.bin", b"x" * (MAX_FILE + 1)))
    sb.exec(["sh", "-c", f"head -c {MAX_FILE + 1} /dev/zero > big.bin"])
    _raises(SizeLimitError, lambda: sb.read_file("big.bin"))
    sb.exec(["rm", "big.bin"])


@check
def exec_output_and_exit_code(sb: Sandbox) -> None:
    r = sb.exec(["sh", "-c", "echo foo; echo bar; echo oops >&2; exit 3"])
    assert (r.stdout, r.stderr, r.exit_code, r.success) == ("foo\nbar\n", "oops\n", 3, False), r
    assert sb.exec("echo $((6 * 7))").stdout == "42\n"
    assert sb.exec(["true"]).success and sb.exec(["true"]).duration >= 0


@check
def exec_signal_exit(sb: Sandbox) -> None:
    assert sb.exec(["sh", "-c", "kill -9 $$"]).exit_code == -9


@check
def exec_not_found_and_not_executable(sb: Sandbox) -> None:
    assert sb.exec(["no-such-command-anywhere"]).exit_code == 127
    assert sb.exec(["/etc/passwd"]).exit_code == 126


@check
def exec_stdin(sb: Sandbox) -> None:
    assert sb.exec(["cat"], stdin="from stdin\n").stdout == "from stdin\n"
    assert sb.exec(["wc", "-c"], stdin=b"\x00\x01" * 100_000).stdout.strip() == "200000"
    assert sb.exec(["cat"]).stdout == ""  # no stdin: EOF at once


@check
def exec_env(sb: Sandbox) -> None:
    r = sb.exec(["sh", "-c", 'echo "$FOO|$SPEC_VAR|$HOME"'], env={"FOO": "bar baz"})
    assert r.stdout == f"bar baz|from-spec|{WORKDIR}\n", r.stdout


@check
def exec_cwd(sb: Sandbox) -> None:
    assert sb.exec(["pwd"]).stdout.strip() == WORKDIR
    sb.exec(["mkdir", "-p", "sub/dir"])
    assert sb.exec(["pwd"], cwd="sub/dir").stdout.strip() == f"{WORKDIR}/sub/dir"
    assert "env" in sb.exec(["ls"], cwd="/usr/bin").stdout.split()
    _raises(FileNotFoundError, lambda: sb.exec(["pwd"], cwd="no/such/dir"))
    sb.exec(["rm", "-r", "sub"])


@check
def exec_user(sb: Sandbox) -> None:
    uid = sb.exec(["id", "-u"]).stdout.strip()  # 10001 in bubblewrap; the sandbox's own host uid in Docker
    assert uid.isdigit() and uid != "0" and sb.exec(["id", "-g"]).stdout.strip() == uid
    assert sb.exec(["whoami"], user=SANDBOX_USER).stdout.strip() == SANDBOX_USER
    _raises(PermissionError, lambda: sb.exec(["whoami"], user="root"), "root")
    _raises(PermissionError, lambda: sb.exec(["whoami"], user="nonexistent"), "nonexistent")


@check
def exec_output_truncated(sb: Sandbox) -> None:
    r = sb.exec(["sh", "-c", f"head -c {4 * MAX_OUTPUT} /dev/zero; head -c {4 * MAX_OUTPUT} /dev/zero >&2"])
    assert r.truncated and r.success, r
    assert len(r.stdout) == MAX_OUTPUT and len(r.stderr) == MAX_OUTPUT, (len(r.stdout), len(r.stderr))
    assert not sb.exec(["echo", "short"]).truncated


@check
def exec_timeout_kills_process_tree(sb: Sandbox) -> None:
    start = time.monotonic()
    script = "sleep 301 & setsid sh -c 'sleep 302' & (sh -c 'sleep 303 &' &) ; echo started; sleep 300"
    r = sb.exec(["sh", "-c", script], timeout=1.5)
    assert r.timed_out and not r.success and r.exit_code == -9, r
    assert r.stdout == "started\n", r.stdout
    assert time.monotonic() - start < 10
    left = sb.exec(["sh", "-c", "pgrep -a -f 'sleep 30[0-3]' || true"]).stdout
    assert left == "", f"processes survived the timeout: {left}"


@check
def exec_background_process_survives(sb: Sandbox) -> None:
    start = time.monotonic()
    r = sb.exec(["sh", "-c", "sleep 299 & echo started"])
    assert r.stdout == "started\n" and time.monotonic() - start < 5, r
    assert sb.exec(["pgrep", "-f", "sleep 299"]).success
    sb.exec(["pkill", "-f", "sleep 299"])


@check
def exec_concurrent(sb: Sandbox) -> None:
    results: list[str] = []
    threads = [
        threading.Thread(target=lambda i=i: results.append(sb.exec(["sh", "-c", f"sleep 0.3; echo {i}"]).stdout))
        for i in range(4)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == [f"{i}\n" for i in range(4)], results


@check
def upload_download_roundtrip(sb: Sandbox) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        src, dest = Path(tmp, "src"), Path(tmp, "dest")
        (src / "inner").mkdir(parents=True)
        (src / "a.txt").write_text("alpha")
        (src / "inner" / "b.bin").write_bytes(b"\x00\xff" * 1000)
        sb.upload(src, "uploaded")
        assert sb.read_file("uploaded/a.txt") == "alpha"
        sb.exec(["sh", "-c", "echo made-inside > uploaded/inner/c.txt"])
        sb.download("uploaded", dest)
        assert (dest / "inner" / "b.bin").read_bytes() == b"\x00\xff" * 1000
        assert (dest / "inner" / "c.txt").read_text() == "made-inside\n"
    sb.exec(["rm", "-r", "uploaded"])


@check
def snapshot_archive(sb: Sandbox) -> None:
    sb.write_file("notes/result.txt", "keep me")
    with tempfile.TemporaryDirectory() as tmp:
        path = sb.snapshot(Path(tmp, "snap.tar.gz"))
        with tarfile.open(path) as tar:
            names = tar.getnames()
            member = tar.extractfile("./notes/result.txt")
            assert member is not None and member.read() == b"keep me", names
            assert not any(".aar-transfer" in n for n in names), names
    assert sb.exec(["test", "-e", ".aar-transfer"]).exit_code == 1, "the transfer folder was left behind"
    sb.exec(["rm", "-r", "notes"])


def conformance_spec(label: str) -> SandboxSpec:
    """The spec the suite runs under: small caps, one env var of its own."""
    return SandboxSpec(
        label=label,
        memory_mb=1024,
        pids=256,
        disk_mb=256,
        tmp_mb=64,
        exec_timeout_s=60,
        max_output_bytes=MAX_OUTPUT,
        max_file_bytes=MAX_FILE,
        env={"SPEC_VAR": "from-spec"},
    )


def run_conformance(provider: SandboxProvider, label: str) -> dict[str, str]:
    """Run every check in one sandbox; then check that ``stop`` is idempotent and final."""
    results: dict[str, str] = {}
    sb = provider.start(conformance_spec(label))
    try:
        for name, fn in CHECKS.items():
            try:
                fn(sb)
                results[name] = "ok"
            except AssertionError as exc:
                results[name] = f"FAILED: {exc}"
            except Exception as exc:  # a check that errors is reported, not fatal to the suite
                results[name] = f"ERROR: {exc!r}"
    finally:
        sb.stop()
    try:
        sb.stop()
        _raises(SandboxUnavailableError, lambda: sb.exec(["true"]))
        results["stop_idempotent_and_final"] = "ok"
    except AssertionError as exc:
        results["stop_idempotent_and_final"] = f"FAILED: {exc}"
    return results
