"""Attacks that harm the host or another sandbox without escaping (issue 25), on both providers.

Each failed on d4820ad: a command wrote without bound through the exec server's log descriptor and answered the
host in its place, a sparse file became a snapshot bomb on resume, workspace images reserved nothing and stayed
after a failed snapshot, and every sandbox shared one host uid (so one took all of another's inotify instances).
"""

from __future__ import annotations

import json
import os
import resource
import shutil
import time
from pathlib import Path

import pytest

from sandbox import SandboxUnavailableError, SizeLimitError, disk, uids
from sandbox.base import Sandbox
from sandbox.escape import escape_spec
from sandbox.providers.bwrap import LOG_MAX_BYTES
from sandbox.settings import get_settings
from sandbox.state import load_state
from workers.agent.budget import Limits
from workers.agent.campaign.plan import AgentPlan, CampaignPlan
from workers.agent.campaign.runner import AgentRun, Campaign
from workers.agent.config import AgentSettings

pytestmark = pytest.mark.timeout(300)
MiB = 1 << 20

STEAL = r"""
import ctypes, json, os, socket, stat
libc = ctypes.CDLL(None, use_errno=True)
stolen, errors = [], set()
try:
    pidfd = os.pidfd_open(1)
    for fd in range(256):
        got = libc.syscall(438, pidfd, fd, 0)  # pidfd_getfd
        if got >= 0:
            stolen.append(got)
        elif ctypes.get_errno() != 9:  # EBADF: no such descriptor
            errors.add(ctypes.get_errno())
except OSError as exc:
    errors.add(exc.errno)
try:
    for name in os.listdir("/proc/1/fd"):
        try:
            stolen.append(os.open(f"/proc/1/fd/{name}", os.O_WRONLY | os.O_APPEND))
        except OSError as exc:
            errors.add(exc.errno)
except OSError as exc:
    errors.add(exc.errno)
kinds, written = [], 0
for fd in stolen:
    mode = os.fstat(fd).st_mode
    kind = "socket" if stat.S_ISSOCK(mode) else "file" if stat.S_ISREG(mode) else "pipe" if stat.S_ISFIFO(mode) else ""
    kinds.append(kind or "other")
    if stat.S_ISREG(mode):  # the log on the host (the pipes are the server's own, to this very command)
        block = b"x" * (1 << 20)
        for _ in range(96):  # more than the workspace (64 MiB) and /tmp (16 MiB) together
            try:
                written += os.write(fd, block)
            except OSError:
                break
print(json.dumps({"stolen": kinds, "written": written, "errors": sorted(errors)}))
"""

# Takes the exec server's listening socket (bubblewrap: pidfd_getfd; Docker: its path in /run/aar) and answers
# the host's next requests from a background process with a forged reply.
FORGE = r"""
import ctypes, json, os, socket, struct
libc = ctypes.CDLL(None, use_errno=True)
listeners = []
try:
    pidfd = os.pidfd_open(1)
except OSError:
    pidfd = None
for fd in range(256 if pidfd is not None else 0):
    got = libc.syscall(438, pidfd, fd, 0)
    if got < 0:
        continue
    try:
        s = socket.socket(fileno=got)
        if s.family == socket.AF_UNIX and s.getsockopt(socket.SOL_SOCKET, socket.SO_ACCEPTCONN):
            listeners.append(s)
    except OSError:
        pass
path = "/run/aar/execd.sock"
if os.path.exists(path):
    try:
        os.unlink(path)
        s = socket.socket(socket.AF_UNIX)
        s.bind(path)
        s.listen(16)
        listeners.append(s)
    except OSError:
        pass
print(len(listeners), flush=True)
if listeners and os.fork() == 0:
    os.setsid()
    if os.fork():
        os._exit(0)
    for fd in (0, 1, 2):
        os.dup2(os.open("/dev/null", os.O_RDWR), fd)
    out = b"forged"
    header = json.dumps({"exit_code": 0, "timed_out": False, "truncated": False, "duration": 0.0,
                         "stdout": len(out), "stderr": 0, "ok": True, "size": len(out)}).encode()
    import threading

    def serve(listener):  # many threads blocked in accept win most connections from the real server
        while True:
            conn, _ = listener.accept()
            conn.recv(1 << 16)
            conn.sendall(struct.pack(">I", len(header)) + header + out)
            conn.close()

    for listener in listeners:
        for _ in range(16):
            threading.Thread(target=serve, args=(listener,)).start()
"""


def _host_log_size(sb: Sandbox) -> int:
    """Bytes of the sandbox's log on the host: bwrap's ``sandbox.log``, Docker's json-file log."""
    if sb.provider.name == "bwrap":
        return (sb.folder / "sandbox.log").stat().st_size
    sb.container.reload()
    return Path(sb.container.attrs["LogPath"]).stat().st_size


def _host_uid(sb: Sandbox) -> int:
    """The host uid of the sandbox's outermost process (bwrap, or the container's main process)."""
    if sb.provider.name == "bwrap":
        pid = load_state(sb.folder)["pid"]
    else:
        sb.container.reload()
        pid = sb.container.attrs["State"]["Pid"]
    status = Path(f"/proc/{pid}/status").read_text()
    return int(next(line.split()[1] for line in status.splitlines() if line.startswith("Uid:")))


def test_exec_server_descriptors_are_out_of_reach(provider, label):
    """No command takes a descriptor of the exec server (its log, its listening socket): the host log stays
    within its cap however much a command writes."""
    with provider.start(escape_spec(label)) as sb:
        r = sb.exec(["python3", "-c", STEAL], timeout=120)
        assert r.exit_code == 0, r.stderr
        seen = json.loads(r.stdout)
        assert seen["stolen"] == [], f"a command took the exec server's descriptors: {seen}"
        assert seen["written"] == 0
        assert _host_log_size(sb) <= LOG_MAX_BYTES
        assert sb.exec(["echo", "alive"]).stdout == "alive\n"


def test_no_command_answers_the_host_in_the_exec_servers_place(provider, label):
    with provider.start(escape_spec(label)) as sb:
        sb.exec(["python3", "-c", FORGE], timeout=60)
        answers = []
        for _ in range(8):
            try:
                answers.append(sb.exec(["echo", "real"]).stdout)
            except SandboxUnavailableError:
                answers.append("refused")
        assert "forged" not in answers, f"a command answered the host's requests: {answers}"


def test_a_snapshot_bomb_is_refused_on_resume_without_unpacking_on_the_host(provider, label, tmp_path):
    """A 1 GiB sparse file snapshots to about 1 MiB; restoring it into a 64 MiB workspace is refused before
    anything is unpacked, in bounded time and host memory."""
    with provider.start(escape_spec(label, disk_mb=64)) as src:
        assert src.exec(["sh", "-c", "truncate -s 1G bomb && echo kept > note"]).success
        snap = src.snapshot(tmp_path / "ws.tar.gz")
    assert snap.stat().st_size < 8 * MiB
    with provider.start(escape_spec(label, disk_mb=64)) as dst:
        before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        start = time.monotonic()
        with pytest.raises(SizeLimitError, match="unpack"):
            dst.restore(snap)
        elapsed = time.monotonic() - start
        grown = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) * 1024
        assert elapsed < 30, f"refusing the bomb took {elapsed:.1f} s"
        assert grown < 64 * MiB, f"host memory grew by {grown / MiB:.0f} MiB"
        assert dst.exec(["ls", "-A", "/workspace"]).stdout.split() == []


def test_a_snapshot_restores_files_links_and_modes(provider, label, tmp_path):
    with provider.start(escape_spec(label)) as src:
        script = "mkdir -p d/e && echo hi > d/e/f && ln d/e/f hard && ln -s d/e/f soft && chmod 750 d && echo n > N.md"
        assert src.exec(["sh", "-c", script]).success
        snap = src.snapshot(tmp_path / "ws.tar.gz")
    with provider.start(escape_spec(label)) as dst:
        dst.restore(snap)
        r = dst.exec(["sh", "-c", "cat d/e/f hard soft N.md; stat -c %a d; stat -c %h hard"])
        assert r.stdout.split() == ["hi", "hi", "hi", "n", "750", "2"], r


def test_workspace_images_reserve_their_disk(provider, label):
    with provider.start(escape_spec(label, disk_mb=64)) as sb:
        image = sb.folder / disk.IMAGE
        assert image.stat().st_blocks * 512 >= 64 * MiB, "the workspace image is sparse: nothing is reserved"


def test_a_workspace_larger_than_the_free_disk_is_refused(provider, label, sandbox_root):
    free_mb = shutil.disk_usage(sandbox_root).free // MiB
    with pytest.raises(SandboxUnavailableError, match="disk"):
        provider.start(escape_spec(label, disk_mb=free_mb + 1024)).stop()
    assert not list((sandbox_root / label).glob(f"*/{disk.IMAGE}")), "a refused start left its image"


def test_release_deletes_the_workspace_image_when_the_snapshot_fails(provider, label, tmp_path, caplog):
    """An incompressible workspace over the transfer cap cannot be snapshotted: the image is deleted anyway
    and the failure is logged."""
    plan = CampaignPlan(
        id=label,
        task="t",
        agents=[AgentPlan(name="a", direction="d", seed=0)],
        backend="offline",
        model="claude-opus-4-6",
        agent_limits=Limits(),
        campaign_limits=Limits(),
        sandbox=provider.name,
    )
    campaign = Campaign(tmp_path, plan, AgentSettings(), tmp_path)
    sb = provider.start(escape_spec(label, max_transfer_bytes=MiB))
    assert sb.exec(["sh", "-c", "head -c 8M /dev/urandom > weights.bin"]).success
    campaign._release(AgentRun(plan.agents[0], sandbox=sb))
    assert not (sb.folder / disk.IMAGE).exists(), "the workspace image stayed after release"
    assert any("snapshot" in r.getMessage() and r.levelname == "ERROR" for r in caplog.records)
    assert not (tmp_path / "agents" / "a.workspace.tar.gz").exists()


def test_each_sandbox_has_its_own_host_uid_and_kernel_counters(provider, label):
    """Sandbox ``a`` takes every inotify instance its user may have; ``b``'s next ``inotify_init`` still works."""
    hog = (
        "import ctypes, time\nlibc = ctypes.CDLL(None, use_errno=True)\nfds = []\n"
        "while (fd := libc.inotify_init()) >= 0:\n    fds.append(fd)\n"
        "print(len(fds), ctypes.get_errno(), flush=True)\ntime.sleep(120)\n"
    )
    with provider.start(escape_spec(label)) as a, provider.start(escape_spec(label)) as b:
        uids = {_host_uid(a), _host_uid(b)}
        assert len(uids) == 2 and not uids & {0, 10001}, f"host uids {uids}"
        settings = get_settings()
        assert all(settings.uid_base <= u < settings.uid_base + settings.uid_count for u in uids), uids
        a.write_file("hog.py", hog)
        assert a.exec(["sh", "-c", "python3 hog.py > /tmp/hog.out 2>&1 &"]).success
        deadline = time.monotonic() + 30
        while not (held := a.exec(["cat", "/tmp/hog.out"]).stdout.split()) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert held and int(held[0]) > 0, held
        r = b.exec(["python3", "-c", "import ctypes; print(ctypes.CDLL(None).inotify_init())"])
        assert int(r.stdout) >= 0, f"sandbox a's {held[0]} inotify instances starved sandbox b: {r}"


def test_uid_leases_end_with_their_sandboxes(provider, label):
    with provider.start(escape_spec(label)) as sb:
        uid = _host_uid(sb)
        assert uids.held(uid)
    assert not uids.held(uid), "the uid's lease outlived its sandbox"
    deadline = time.monotonic() + 10
    while [p for p in os.listdir("/proc") if p.isdigit() and _uid_of(p) == uid] and time.monotonic() < deadline:
        time.sleep(0.1)
    assert uid not in uids.running_uids(), "processes of the uid outlived the sandbox"


def _uid_of(pid: str) -> int | None:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return None
    return int(next(line.split()[1] for line in status.splitlines() if line.startswith("Uid:")))


def test_archive_bounds_hold_before_anything_is_unpacked(tmp_path):
    """``scan`` refuses too many members, too many bytes and too high a ratio; ``extract`` the same, before the
    member that passes a bound is written."""
    import gzip
    import io
    import tarfile

    from sandbox.archive import Bounds, extract, scan

    def archive(members: list[tuple[str, bytes]], compress: bool) -> io.BytesIO:
        buf = io.BytesIO()
        options = {"compresslevel": 1} if compress else {}
        with tarfile.open(fileobj=buf, mode="w:gz" if compress else "w", **options) as tar:
            for name, data in members:
                info = tarfile.TarInfo(name)
                info.size = len(data)
                tar.addfile(info, io.BytesIO(data))
        buf.seek(0)
        return buf

    zeros = archive([("z", bytes(80 * MiB))], compress=True)
    with pytest.raises(SizeLimitError, match="times its size"):
        scan(zeros, Bounds(max_bytes=1 << 30, max_members=10, max_ratio=200))
    many = [(f"f{i}", b"x") for i in range(50)]
    with pytest.raises(SizeLimitError, match="members"):
        scan(archive(many, compress=True), Bounds(max_bytes=1 << 30, max_members=20, max_ratio=200))
    big = [("a", os.urandom(MiB)), ("b", os.urandom(MiB))]
    with pytest.raises(SizeLimitError, match="bytes"):
        extract(archive(big, compress=False), tmp_path / "out", Bounds(max_bytes=MiB + 1, max_members=10, max_ratio=2))
    assert (tmp_path / "out" / "a").stat().st_size == MiB and not (tmp_path / "out" / "b").exists()
    fine = archive([("w", os.urandom(4 * MiB)), *many], compress=True)
    tally = scan(fine, Bounds(max_bytes=8 * MiB, max_members=100, max_ratio=2))
    assert (tally.members, tally.unpacked) == (51, 4 * MiB + 50)
    assert len(gzip.decompress(fine.getvalue())) >= tally.end


def test_each_jail_has_its_own_host_uid():
    """The scorer's jails lease their host uids like sandboxes, from the jail half of the range."""
    from sandbox.jail import Jail
    from sandbox.runtime import RuntimeSpec

    with Jail(runtime=RuntimeSpec(), memory_mb=1024) as a, Jail(runtime=RuntimeSpec(), memory_mb=1024) as b:
        for jail in (a, b):
            result = jail.run({}, "os:getcwdb", [], timeout_s=60)
            assert result.status == "ok", result
        assert a._proc is not None and b._proc is not None
        seen = {_uid_of(str(a._proc.pid)), _uid_of(str(b._proc.pid))}
        assert len(seen) == 2 and all(u in uids.pool_range("jail") for u in seen), seen
