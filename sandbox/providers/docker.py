"""The Docker provider (docker SDK): one hardened container per sandbox, commands through the exec server.

Each container runs as a host uid of its own (``sandbox.uids``: there is no user namespace remapping, so it
is the same uid inside, named ``sandbox`` by a mounted ``/etc/passwd``) with a read-only root, ``cap_drop
ALL``, ``no-new-privileges``, memory equal to memory+swap, a CPU quota and a pids limit, a size-capped tmpfs
``/tmp`` and the capped workspace image (``sandbox.disk``) bind-mounted at ``/workspace``. Its network is
``none``, or for an allow-list a private ``internal`` network that only the allowed service containers join
(with their names as aliases), guarded so the host itself is unreachable from it and each service only on
its allowed ports. The exec server (``sandbox/execd.py``, mounted read-only) is the container's main
process; the host reaches it over a Unix socket in a mounted folder, which is much faster than ``docker
exec``, and only ever the socket the server bound first. The Docker socket is never mounted. Every
container, network and folder carries the run label that ``sweep`` removes.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any

import docker
from docker.errors import APIError, DockerException, ImageNotFound, NotFound
from docker.models.containers import Container
from docker.types import DeviceRequest, LogConfig, Mount

from sandbox import disk, network, uids
from sandbox.base import (
    WORKDIR,
    Capabilities,
    SandboxProvider,
    SandboxSpec,
    SandboxUnavailableError,
    new_id,
)
from sandbox.client import ExecdSandbox
from sandbox.settings import SandboxSettings
from sandbox.state import live, load_state, save_state

EXECD = Path(__file__).resolve().parents[1] / "execd.py"
LABEL = "aar.label"


def default_image() -> str:
    """``AAR_SANDBOX_IMAGE``, or the tag ``make sandbox-image`` produces."""
    return SandboxSettings().image


class DockerSandbox(ExecdSandbox):
    """A running container."""

    def __init__(
        self, provider: DockerProvider, folder: Path, spec: SandboxSpec, container: Container, endpoints: dict[str, str]
    ):
        super().__init__(provider, folder, spec, endpoints)
        self.container = container

    def diagnose(self) -> str:
        try:
            self.container.reload()
        except NotFound:
            return "the container no longer exists"
        except DockerException as exc:
            return f"the Docker engine did not answer: {exc}"
        state = self.container.attrs["State"]
        if state.get("Running"):
            return ""
        oom = " (killed for memory)" if state.get("OOMKilled") else ""
        return f"the container exited with status {state.get('ExitCode')}{oom}"


class DockerProvider(SandboxProvider):
    """Sandboxes as Docker containers; folders under ``root/<label>/<id>/`` hold workspace and socket."""

    name = "docker"

    def __init__(self, root: Path | None = None):
        super().__init__(root)
        self._client: docker.DockerClient | None = None

    @property
    def client(self) -> docker.DockerClient:
        if self._client is None:
            try:
                self._client = docker.from_env(timeout=120)
                self._client.ping()
            except DockerException as exc:
                self._client = None
                hint = "install docker.io and start dockerd"
                raise SandboxUnavailableError(f"no Docker engine: {exc}; {hint}") from exc
        return self._client

    def check(self, image: str | None = None) -> None:
        image = image or default_image()
        try:
            self.client.images.get(image)
        except ImageNotFound as exc:
            raise SandboxUnavailableError(f"image {image} is missing: run `make sandbox-image`") from exc

    def capabilities(self) -> Capabilities:
        info = self.client.info()
        backing = dict(info.get("DriverStatus") or []).get("Backing Filesystem", "")
        gpu = "nvidia" in (info.get("Runtimes") or {}) or shutil.which("nvidia-container-cli") is not None
        enforced = {
            "non_root_user": True,
            "no_capabilities": True,
            "no_new_privileges": True,
            "read_only_root": True,
            "pid_namespace": True,
            "seccomp_filter": True,  # the engine's default profile (never unconfined)
            "network_none": True,
            "network_allow_list": os.geteuid() == 0,
            "memory_limit": True,
            "memory_swap_equal": True,
            "cpu_limit": True,
            "pids_limit": True,
            "disk_quota": disk.quota_available(),
            "rootfs_quota": self._rootfs_quota(info),
            "tmp_quota": True,
            "label_data_hidden": True,
            "host_uid_unprivileged": True,
            "host_uid_per_sandbox": True,
            "gpu": gpu,
        }
        notes = {
            "rootfs_quota": f"storage driver {info.get('Driver')} on {backing or 'unknown'} has no per-container "
            "quota (needs overlay2 on xfs with pquota); the root is read-only, so only /workspace and /tmp grow",
        }
        if not gpu:
            notes["gpu"] = "no NVIDIA container runtime on this engine"
        if not enforced["disk_quota"]:
            notes["disk_quota"] = "needs root, mkfs.ext4 and loop devices for the workspace image"
        return Capabilities(self.name, enforced, {k: v for k, v in notes.items() if not enforced[k]})

    @staticmethod
    def _rootfs_quota(info: dict[str, Any]) -> bool:
        backing = dict(info.get("DriverStatus") or []).get("Backing Filesystem")
        return info.get("Driver") == "overlay2" and backing == "xfs"

    def start(self, spec: SandboxSpec) -> DockerSandbox:
        image = spec.image or default_image()
        self.check(image)
        folder = self.root / spec.label / new_id()
        folder.mkdir(parents=True)
        save_state(folder, {"label": spec.label})
        try:
            return self._start(spec, folder, image)
        except BaseException:
            self.teardown(folder)
            raise

    def _start(self, spec: SandboxSpec, folder: Path, image: str) -> DockerSandbox:
        sid = folder.name
        try:
            uid = uids.lease("sandbox", key=sid)
        except uids.UidsExhausted as exc:
            raise SandboxUnavailableError(str(exc)) from exc
        save_state(folder, {**load_state(folder), "uid": uid.uid})
        disk.make_workspace(folder, spec.disk_mb, uid.uid)
        ctl = folder / "ctl"  # the one host folder the sandbox writes besides /workspace: a 64 KiB tmpfs
        disk.make_control_folder(ctl, uid.uid)
        # Copies in the sandbox folder: bind sources are host paths, and this process may itself run in
        # a container that shares only its AAR_HOME folder with the host (the compose stack).
        execd = shutil.copy(EXECD, folder / "execd.py")
        (folder / "etc").mkdir()
        uids.account_files(folder / "etc", uid.uid)
        labels = {LABEL: spec.label, "aar.id": sid, "aar.folder": str(folder)}
        net_opts: dict[str, Any] = {"network_mode": "none"}
        if spec.network.mode == "allow":
            net_opts = {"network": self._private_network(folder, labels, spec)}
        env = {"HOME": WORKDIR, "AAR_SANDBOX_ID": sid, **spec.env}
        info = self.client.info()
        container = self.client.containers.run(
            image,
            ["python3", "-I", "/run/aar-execd.py", "/run/aar/execd.sock", WORKDIR],
            name=f"aar-{spec.label}-{sid}",
            detach=True,
            labels=labels,
            user=f"{uid.uid}:{uid.uid}",
            read_only=True,
            cap_drop=["ALL"],
            security_opt=["no-new-privileges:true"],
            ipc_mode="private",
            mem_limit=f"{spec.memory_mb}m",
            memswap_limit=f"{spec.memory_mb}m",
            nano_cpus=int(spec.cpus * 1e9),
            pids_limit=spec.pids,
            hostname="sandbox",
            working_dir=WORKDIR,
            environment=env,
            tmpfs={"/tmp": f"rw,nosuid,nodev,size={spec.tmp_mb}m,mode=1777"},
            mounts=[
                Mount(WORKDIR, str(folder / "workspace"), type="bind"),
                Mount("/run/aar", str(ctl), type="bind"),
                Mount("/run/aar-execd.py", str(execd), type="bind", read_only=True),
                Mount("/etc/passwd", str(folder / "etc" / "passwd"), type="bind", read_only=True),
                Mount("/etc/group", str(folder / "etc" / "group"), type="bind", read_only=True),
            ],
            device_requests=[DeviceRequest(count=-1, capabilities=[["gpu"]])] if spec.gpu else None,
            storage_opt={"size": f"{spec.disk_mb}m"} if self._rootfs_quota(info) else None,
            log_config=LogConfig(type="json-file", config={"max-size": "1m", "max-file": "1"}),
            **net_opts,
        )
        endpoints = {e.name: f"{e.name}:{e.port}" for e in spec.network.allow} if spec.network.mode == "allow" else {}
        sandbox = DockerSandbox(self, folder, spec, container, endpoints)

        def alive() -> bool:
            container.reload()
            return container.status in ("created", "running")

        try:
            sandbox.client.wait_ready(30, alive)
        except SandboxUnavailableError as exc:
            logs = container.logs(tail=20).decode(errors="replace")
            raise SandboxUnavailableError(f"{exc}; {sandbox.diagnose()}\n{logs}") from exc
        # No command has run yet: the socket there is the server's. One put in its place later (the sandbox
        # can write that folder) is refused, so no command answers the host in the server's place.
        sandbox.client.pin()
        return sandbox

    def _private_network(self, folder: Path, labels: dict[str, str], spec: SandboxSpec) -> str:
        """An internal network for this sandbox alone, joined by the allowed service containers."""
        sid = folder.name
        name = f"aar-{sid}"
        self.client.networks.create(
            name,
            driver="bridge",
            internal=True,
            labels=labels,
            options={
                "com.docker.network.bridge.name": f"aarb{sid}",
                "com.docker.network.bridge.enable_ip_masquerade": "false",
            },
        )
        network.guard_bridge(network.table(sid), f"aarb{sid}")
        net = self.client.networks.get(name)
        ports: dict[str | None, set[int]] = {}  # container id → allowed ports
        for endpoint in spec.network.allow:
            try:
                container = self.client.containers.get(endpoint.host)
                if container.id not in ports:
                    net.connect(container, aliases=[e.name for e in spec.network.allow if e.host == endpoint.host])
                ports.setdefault(container.id, set()).add(endpoint.port)
            except (NotFound, APIError) as exc:
                raise SandboxUnavailableError(f"cannot connect service {endpoint.host!r}: {exc}") from exc
        net.reload()
        addresses = {cid: info["IPv4Address"].split("/")[0] for cid, info in net.attrs["Containers"].items()}
        network.guard_ports(network.table(sid), {addresses[cid]: allowed for cid, allowed in ports.items()})
        return name

    def teardown(self, folder: Path) -> None:
        """Remove the container, its private network and nftables guard, and unmount the workspace (idempotent)."""
        state = load_state(folder)
        for container in self.client.containers.list(all=True, filters={"label": f"aar.id={folder.name}"}):
            container.remove(force=True)
        self._remove_network(f"aar-{folder.name}")
        network.delete_table(network.table(folder.name))
        disk.release_workspace(folder)
        disk.release_control_folder(folder / "ctl")
        uids.release(folder.name)
        if state:
            save_state(folder, {**state, "stopped": True})

    def _remove_network(self, name: str) -> None:
        try:
            net = self.client.networks.get(name)
        except NotFound:
            return
        net.reload()
        for container in net.containers:
            net.disconnect(container, force=True)
        net.remove()

    def sweep(self, label: str) -> list[str]:
        by_label: dict[str, str | list[str] | bool] = {"label": f"{LABEL}={label}"}
        found = {folder.name: folder for folder in live(self.root, label)}
        labelled = [c.labels for c in self.client.containers.list(all=True, filters=by_label)]
        labelled += [n.attrs["Labels"] for n in self.client.networks.list(filters=by_label)]
        for labels in labelled:  # the folder may sit under another root than this provider's
            found.setdefault(labels["aar.id"], Path(labels["aar.folder"]))
        for folder in found.values():
            self.teardown(folder)
        return sorted(found)
