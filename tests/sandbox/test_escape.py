"""The escape suite against Docker and bubblewrap: limits, isolation, network policy, cleanup.

Network targets are servers this test starts: on the host's loopback (bubblewrap publishes them to
the sandbox through its gateway) or in containers on networks the test creates (Docker).
"""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from contextlib import contextmanager

import pytest

from sandbox import Endpoint, NetworkPolicy, disk
from sandbox.escape import ESCAPE_CHECKS, control_socket_redirect, escape_spec, leftovers, probe
from sandbox.execd import _descendants
from tests.sandbox.conftest import PROVIDERS, make_provider
from w2s.datasets import label_data_paths

pytestmark = pytest.mark.timeout(300)

# Known gaps per provider, each with the reason; the test asserts the gap is still there.
KNOWN_GAPS: dict[str, dict[str, str]] = {"bwrap": {}, "docker": {}}


@pytest.fixture(scope="module")
def escape_sandbox(provider, sandbox_root):
    """One sandbox per provider for all escape checks, with secrets in the starting environment."""
    label = f"esc-{uuid.uuid4().hex[:8]}"
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("DATABASE_URL", "postgresql://postgres@127.0.0.1/secret")
        mp.setenv("AAR_ADMIN_TOKEN", "not-for-sandboxes")
        sb = provider.start(escape_spec(label, hidden=[str(p) for p in label_data_paths()]))
    yield sb
    sb.stop()
    assert leftovers(sandbox_root, label) == []


@pytest.mark.parametrize("check", list(ESCAPE_CHECKS))
def test_escape_check(escape_sandbox, check):
    assert check not in KNOWN_GAPS[escape_sandbox.provider.name]
    ESCAPE_CHECKS[check](escape_sandbox)


@contextmanager
def tcp_server(host: str, banner: str):
    """A banner server on ``host`` (a free port) for the duration of the block; yields the port."""
    server = socket.create_server((host, 0))
    server.settimeout(0.2)
    stop = threading.Event()

    def serve():
        while not stop.is_set():
            try:
                conn, _ = server.accept()
            except OSError:
                continue
            with conn:
                conn.sendall(banner.encode() + b"\n")

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield server.getsockname()[1]
    finally:
        stop.set()
        thread.join()
        server.close()


def test_network_none_has_only_loopback(provider, label):
    with tcp_server("127.0.0.1", "host") as port, provider.start(escape_spec(label)) as sb:
        interfaces = [line.split(":")[0].strip() for line in sb.read_file("/proc/net/dev").splitlines()[2:]]
        assert interfaces == ["lo"]
        assert probe(sb, f"127.0.0.1:{port}")[f"127.0.0.1:{port}"].startswith("closed")


def test_bwrap_allow_list(sandbox_root, label):
    provider = make_provider("bwrap", sandbox_root)
    with (
        tcp_server("127.0.0.1", "allowed") as allowed,
        tcp_server("127.0.0.1", "blocked") as blocked,
        tcp_server("0.0.0.0", "wildcard") as wildcard,
    ):
        spec = escape_spec(
            label, network=NetworkPolicy(mode="allow", allow=[Endpoint(name="scorer", host="127.0.0.1", port=allowed)])
        )
        with provider.start(spec) as sb:
            assert sb.endpoints == {"scorer": f"scorer:{allowed}"}
            seen = probe(
                sb,
                f"scorer:{allowed}",
                f"scorer:{blocked}",
                f"scorer:{wildcard}",
                f"127.0.0.1:{allowed}",
                "scorer:5432",
                "scorer:6379",
            )
            assert seen.pop(f"scorer:{allowed}") == "open allowed"
            assert all(v.startswith("closed") for v in seen.values()), seen
            routes = sb.read_file("/proc/net/route").splitlines()[1:]
            assert not [r for r in routes if r.split()[1] == "00000000"], f"a default route exists: {routes}"


@pytest.mark.docker
def test_docker_allow_list(sandbox_root, label):
    provider = make_provider("docker", sandbox_root)
    client = provider.client
    net = client.networks.create(f"{label}-services", internal=True, labels={"aar.label": label})
    server = "import socket, threading\n" + "".join(
        f"s{p} = socket.create_server(('0.0.0.0', {p}))\n"
        f"threading.Thread(target=lambda: [c.sendall(b'port{p}\\n') or c.close() for c, _ in iter(s{p}.accept, None)]).start()\n"  # noqa: E501
        for p in (8101, 8102)
    )
    services = []
    try:
        for name in ("allowed", "other"):
            services.append(
                client.containers.run(
                    "aar-sandbox:latest",
                    ["python3", "-c", server],
                    detach=True,
                    name=f"{label}-{name}",
                    network=net.name,
                    labels={"aar.label": label},
                    read_only=True,
                    cap_drop=["ALL"],
                )
            )
        other_ip = client.containers.get(f"{label}-other").attrs["NetworkSettings"]["Networks"][net.name]["IPAddress"]
        allow = [Endpoint(name="scorer", host=f"{label}-allowed", port=8101)]
        spec = escape_spec(label, network=NetworkPolicy(mode="allow", allow=allow))
        with tcp_server("0.0.0.0", "host-wildcard") as wildcard, provider.start(spec) as sb:
            gateway = client.networks.get(f"aar-{sb.id}").attrs["IPAM"]["Config"][0]["Gateway"]
            seen = probe(
                sb, "scorer:8101", "scorer:8102", f"{other_ip}:8101", f"{gateway}:{wildcard}", f"{gateway}:5432"
            )
            assert seen.pop("scorer:8101") == "open port8101"
            assert all(v.startswith("closed") for v in seen.values()), seen  # the allowed service's other port too
    finally:
        for container in services:
            container.remove(force=True)
        net.remove()


def test_sandboxes_cannot_see_each_other(provider, label):
    with provider.start(escape_spec(label)) as a, provider.start(escape_spec(label)) as b:
        b.write_file("marker-of-b.txt", "b")
        b.exec(["sh", "-c", "sleep 123 &"])
        found = a.exec(["sh", "-c", "find / -name 'marker-of-b.txt' -not -path '/proc/*' 2>/dev/null"], timeout=120)
        assert found.stdout == ""
        assert a.exec(["sh", "-c", "pgrep -f 'sleep 12[3]' || true"]).stdout == ""


CONTROLLER = """
import sys, time
from pathlib import Path
from sandbox import SandboxSpec, get_provider
sb = get_provider(sys.argv[1], Path(sys.argv[2])).start(SandboxSpec(label=sys.argv[3], memory_mb=256, disk_mb=64))
sb.exec(["sh", "-c", "sleep 600 &"])
print(sb.id, flush=True)
time.sleep(600)
"""


@pytest.mark.parametrize("name", PROVIDERS)
def test_sweep_after_controller_sigkill(name, sandbox_root, label):
    provider = make_provider(name, sandbox_root)
    argv = [sys.executable, "-c", CONTROLLER, name, str(sandbox_root), label]
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, text=True)
    sandbox_id = proc.stdout.readline().strip()
    assert sandbox_id, "the controller did not start its sandbox"
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert leftovers(sandbox_root, label), "the sandbox should outlive its controller until a sweep"
    assert provider.sweep(label) == [sandbox_id]
    assert leftovers(sandbox_root, label) == []
    assert provider.sweep(label) == []


def _host_pid(sb) -> int:
    """The host pid of a process inside ``sb`` (its exec server)."""
    if sb.provider.name == "docker":
        sb.container.reload()
        return sb.container.attrs["State"]["Pid"]
    return _descendants(sb.proc.pid)[-1]


def test_control_socket_links_are_never_followed(provider, label):
    """The cross-sandbox escape: a link in place of a's control socket must not send a's commands to b."""
    with provider.start(escape_spec(label)) as a, provider.start(escape_spec(label)) as b:
        targets = [str(b.client.socket_path), f"/proc/{_host_pid(b)}/root/run/aar/execd.sock", "/var/run/docker.sock"]
        control_socket_redirect(a, b, targets)


def _loop_devices(root, label) -> list[str]:
    return [f for f in leftovers(root, label) if f.startswith(("loop device", "mount"))]


@pytest.mark.parametrize("name", PROVIDERS)
def test_start_stop_cycles_leave_no_loop_device_or_mount(name, sandbox_root, label, tmp_path_factory):
    """Processes that copied every host mount while a workspace was mounted (a bwrap sandbox started
    meanwhile, whose setup runs in a private copy of the host's mounts — of this ``AAR_HOME`` or of another
    one on the same host; any ``unshare -m``) do not keep its loop device or mount alive: N start/stop
    cycles leave nothing behind."""
    provider = make_provider(name, sandbox_root)
    bwrap = make_provider("bwrap", sandbox_root)
    elsewhere_root = tmp_path_factory.mktemp("another-home")
    elsewhere = make_provider("bwrap", elsewhere_root)
    others, holders = [], []
    try:
        for _ in range(3):
            sb = provider.start(escape_spec(label))
            image = sb.folder / disk.IMAGE
            assert disk.loop_device(image) is not None, "the workspace should be loop-mounted while it runs"
            others.append(bwrap.start(escape_spec(f"{label}-other")))
            others.append(elsewhere.start(escape_spec(f"{label}-other")))
            holders.append(subprocess.Popen(["unshare", "-m", "--propagation", "private", "sleep", "300"]))
            time.sleep(0.2)
            assert len(disk.foreign_mounts(disk.loop_device(image))) >= 2, "the copies this test needs were not made"
            sb.stop()
            assert disk.loop_device(image) is None
            assert leftovers(sandbox_root, label) == []
        assert all(other.exec(["true"]).success for other in others), "cleaning up one sandbox broke another"
    finally:
        for holder in holders:
            holder.kill()
            holder.wait()
        for other in others:
            other.stop()
    assert leftovers(sandbox_root, f"{label}-other") == []
    assert leftovers(elsewhere_root, f"{label}-other") == []


def test_leftovers_report_a_mount_held_in_a_locked_namespace(sandbox_root, label):
    """A user-namespaced process that bound the whole host (``bwrap --ro-bind / /``) holds a locked copy of the
    mount that no one can unmount: the sweep reports it, and it goes when that process ends."""
    sb = make_provider("bwrap", sandbox_root).start(escape_spec(label))
    holder = subprocess.Popen(
        ["bwrap", "--ro-bind", "/", "/", "--unshare-all", "--die-with-parent", "--", "sleep", "300"]
    )
    try:
        time.sleep(0.3)
        sb.stop()
        assert [f for f in leftovers(sandbox_root, label) if f.startswith("loop device")]
    finally:
        holder.kill()
        holder.wait()
    deadline = time.monotonic() + 5
    while leftovers(sandbox_root, label) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert leftovers(sandbox_root, label) == []


def test_download_skips_and_reports_unsafe_members(provider, label, tmp_path):
    """One absolute symlink (a virtualenv's) or a link out of the folder no longer fails a whole download."""
    with provider.start(escape_spec(label)) as sb:
        script = (
            "mkdir -p out/venv/bin && echo data > out/keep.txt && ln -s /usr/bin/python3 out/venv/bin/python && "
            "ln -s ../../../etc/passwd out/escape && ln -s keep.txt out/inside"
        )
        assert sb.exec(["sh", "-c", script]).success
        skipped = sb.download("/workspace/out", tmp_path / "out")
    assert sorted(s.split(":")[0] for s in skipped) == ["./escape", "./venv/bin/python"]
    assert (tmp_path / "out" / "keep.txt").read_text() == "data\n"
    assert (tmp_path / "out" / "inside").read_text() == "data\n"
    assert not (tmp_path / "out" / "escape").exists() and not (tmp_path / "out" / "venv" / "bin" / "python").exists()
