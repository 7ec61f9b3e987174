"""The provider interface: a spec, a running sandbox, the provider that starts and sweeps them.

A failed *command* is data (``ExecResult`` with its exit code, ``timed_out`` or ``truncated``); a
failed *sandbox* is an exception (``SandboxUnavailableError``), so an outage never looks like empty
output. File operations raise the built-in ``FileNotFoundError``, ``IsADirectoryError``,
``NotADirectoryError`` and ``PermissionError``, and ``SizeLimitError`` past a cap, whatever the provider.
"""

from __future__ import annotations

import secrets
import tarfile
import tempfile
import zlib
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, ClassVar, Literal, overload

from pydantic import BaseModel, Field

from aar_core.settings import CoreSettings
from sandbox.errors import SandboxError as SandboxError
from sandbox.errors import SandboxUnavailableError as SandboxUnavailableError
from sandbox.errors import SizeLimitError as SizeLimitError
from sandbox.settings import get_settings

if TYPE_CHECKING:
    from sandbox.archive import Bounds

SANDBOX_USER = "sandbox"  # the one identity commands run as, no capabilities (uid 10001 inside bubblewrap)
SANDBOX_UID = 10001
WORKDIR = "/workspace"
CHUNK = 1 << 20  # archives move between host and sandbox in pieces of this size, never whole


@dataclass(frozen=True)
class ExecResult:
    """What a command did. ``exit_code`` is negative when a signal killed it (``-9`` after a timeout)."""

    exit_code: int
    stdout: str
    stderr: str
    truncated: bool = False
    timed_out: bool = False
    duration: float = 0.0

    @property
    def success(self) -> bool:
        return self.exit_code == 0 and not self.timed_out


class Endpoint(BaseModel):
    """A service the sandbox may reach: ``name`` inside the sandbox, ``host``:``port`` outside it.

    For bubblewrap, ``host`` is an address of this machine (loopback included) and the sandbox reaches
    ``name:port``; for Docker, ``host`` is a container that joins the sandbox's private network.
    """

    name: str = Field(pattern=r"^[a-z][a-z0-9-]{0,30}$")
    host: str
    port: int = Field(ge=1, le=65535)


class NetworkPolicy(BaseModel):
    """``none``: loopback only. ``allow``: the listed endpoints and nothing else."""

    mode: Literal["none", "allow"] = "none"
    allow: list[Endpoint] = Field(default_factory=list)


def _limit(name: str) -> Any:
    return Field(default_factory=lambda: getattr(get_settings(), name))


class SandboxSpec(BaseModel):
    """What to start. Every sandbox carries the run ``label`` it belongs to (what ``sweep`` removes)."""

    label: str = Field(pattern=r"^[a-z0-9][a-z0-9_.-]{0,47}$")
    image: str | None = None  # Docker only; default ``AAR_SANDBOX_IMAGE`` or ``aar-sandbox:latest``
    # Host paths no code inside may see (bubblewrap covers them with an empty tmpfs): the caller's secrets and
    # label data. ``AAR_HOME``, the provider's root and the services' state are always hidden.
    hidden: list[str] = Field(default_factory=list)
    env: dict[str, str] = Field(default_factory=dict)
    network: NetworkPolicy = Field(default_factory=NetworkPolicy)
    gpu: bool = False
    memory_mb: int = _limit("memory_mb")
    cpus: float = _limit("cpus")
    pids: int = _limit("pids")
    disk_mb: int = _limit("disk_mb")
    tmp_mb: int = _limit("tmp_mb")
    exec_timeout_s: float = _limit("exec_timeout_s")
    max_output_bytes: int = _limit("max_output_bytes")
    max_file_bytes: int = _limit("max_file_bytes")
    max_transfer_bytes: int = _limit("max_transfer_bytes")
    max_archive_members: int = _limit("max_archive_members")
    max_archive_ratio: float = _limit("max_archive_ratio")


@dataclass(frozen=True)
class Capabilities:
    """What a provider actually enforces on this machine: property → enforced, with a note why not."""

    provider: str
    enforced: dict[str, bool]
    notes: dict[str, str] = field(default_factory=dict)


class Sandbox(ABC):
    """One running sandbox. Methods are synchronous and safe to call from several threads.

    ``workspace`` is the host folder behind ``/workspace`` (its content is untrusted: read it through
    the sandbox, or with ``snapshot``). ``endpoints`` maps each allowed endpoint to the ``host:port``
    that code inside the sandbox should use.
    """

    def __init__(self, sandbox_id: str, spec: SandboxSpec, workspace: Path, endpoints: dict[str, str]):
        self.id = sandbox_id
        self.spec = spec
        self.workspace = workspace
        self.endpoints = endpoints

    @abstractmethod
    def exec(
        self,
        cmd: list[str] | str,
        *,
        stdin: str | bytes | None = None,
        cwd: str | None = None,
        env: Mapping[str, str] | None = None,
        timeout: float | None = None,
        user: str | None = None,
    ) -> ExecResult:
        """Run ``cmd`` (a string goes to ``/bin/sh -c``) and return what it did; never raises for its exit code.

        ``cwd`` is relative to ``/workspace``; ``timeout`` (default ``spec.exec_timeout_s``) kills the
        command's whole process tree. Output beyond ``spec.max_output_bytes`` per stream is dropped.
        Raises ``PermissionError`` for a ``user`` other than ``sandbox``, ``FileNotFoundError`` for a
        missing ``cwd``, ``SandboxUnavailableError`` when the sandbox is gone.
        """

    @abstractmethod
    def _read_bytes(self, path: str, max_bytes: int) -> bytes:
        """The file's bytes; raises the built-in file errors, or ``SizeLimitError`` over ``max_bytes``."""

    @abstractmethod
    def read_range(self, path: str, offset: int, length: int) -> tuple[bytes, int]:
        """At most ``length`` bytes of ``path`` from ``offset``, and the file's size; raises the built-in file
        errors."""

    @abstractmethod
    def _write_bytes(self, path: str, data: bytes) -> None:
        """Create or replace the file (and its parent folders); raises the built-in file errors."""

    @abstractmethod
    def _exec_stream(
        self,
        argv: list[str],
        *,
        source: Iterable[bytes] | None = None,
        sink: Callable[[bytes], None] | None = None,
        timeout: float,
    ) -> ExecResult:
        """Run ``argv`` with ``source``'s chunks as its stdin, or with its stdout handed to ``sink`` chunk by
        chunk (one of the two); the result's stdout is empty then. An exception from ``sink`` ends the command."""

    @abstractmethod
    def stop(self) -> None:
        """Kill every process and release every host resource; the workspace folder stays. Idempotent."""

    def discard(self) -> None:
        """Stop the sandbox and delete what it kept on the host, workspace data included (take a
        ``snapshot`` first to keep it). Idempotent."""
        self.stop()

    @overload
    def read_file(self, path: str, *, text: Literal[True] = True) -> str: ...

    @overload
    def read_file(self, path: str, *, text: Literal[False]) -> bytes: ...

    @overload
    def read_file(self, path: str, *, text: bool) -> str | bytes: ...

    def read_file(self, path: str, *, text: bool = True) -> str | bytes:
        """Read ``path`` (relative to ``/workspace``) as the sandbox user; UTF-8 text unless ``text=False``.

        Raises ``FileNotFoundError``, ``IsADirectoryError``, ``PermissionError``, and ``SizeLimitError``
        over ``spec.max_file_bytes``.
        """
        data = self._read_bytes(path, self.spec.max_file_bytes)
        return data.decode("utf-8", errors="replace") if text else data

    def write_file(self, path: str, content: str | bytes) -> None:
        """Write ``path`` as the sandbox user, creating parent folders.

        Raises ``IsADirectoryError``, ``PermissionError``, and ``SizeLimitError`` over ``spec.max_file_bytes``.
        """
        data = content.encode() if isinstance(content, str) else content
        if len(data) > self.spec.max_file_bytes:
            raise SizeLimitError(f"{path}: {len(data)} bytes is over the limit", self.spec.max_file_bytes)
        self._write_bytes(path, data)

    def upload(self, src: Path, dest: str) -> None:
        """Copy the host folder ``src`` into ``dest`` inside the sandbox (a tar archive, streamed)."""
        with tempfile.TemporaryFile() as archive:
            with tarfile.open(fileobj=archive, mode="w") as tar:
                tar.add(src, arcname=".")
            if archive.tell() > self.spec.max_transfer_bytes:
                raise SizeLimitError(f"{src}: archive over the transfer limit", self.spec.max_transfer_bytes)
            archive.seek(0)
            script = 'mkdir -p "$1" && tar -xf - -C "$1"'
            result = self._exec_stream(
                ["sh", "-c", script, "sh", dest], source=_chunks(archive), timeout=self.spec.exec_timeout_s
            )
        self._check(result, f"upload to {dest}")

    def download(
        self, src: str, dest: Path, *, max_bytes: int | None = None, timeout: float | None = None
    ) -> list[str]:
        """Copy the folder ``src`` of the sandbox into the host folder ``dest``; returns the members skipped.

        The archive streams into a host temporary file of at most ``max_bytes`` (default
        ``spec.max_transfer_bytes``) within ``timeout`` (default ``spec.exec_timeout_s``); it is untrusted, so
        it unpacks within ``archive_bounds`` and through tarfile's ``data`` filter (``sandbox.archive``).
        Raises ``SizeLimitError`` past a bound.
        """
        from sandbox.archive import extract

        limit = max_bytes or self.spec.max_transfer_bytes
        with tempfile.TemporaryFile() as archive:
            result = self._exec_stream(
                ["tar", "-cf", "-", "-C", src, "."],
                sink=_capped(archive, limit, f"the archive of {src}"),
                timeout=timeout or self.spec.exec_timeout_s,
            )
            self._check(result, f"archive of {src}")
            archive.seek(0)
            return extract(archive, dest, self.archive_bounds(limit))

    def snapshot(self, dest: Path) -> Path:
        """Write a ``.tar.gz`` of ``/workspace`` to the host file ``dest``, streamed (no room needed in the
        workspace); ``SizeLimitError`` over ``spec.max_transfer_bytes`` (``dest`` is then left as it was)."""
        dest.parent.mkdir(parents=True, exist_ok=True)
        part = dest.with_name(f".{dest.name}.part")
        try:
            with open(part, "wb") as f:
                sink = _capped(f, self.spec.max_transfer_bytes, "the workspace snapshot")
                argv = ["tar", "-czf", "-", "--ignore-failed-read", "-C", WORKDIR, "."]
                result = self._exec_stream(argv, sink=sink, timeout=self.spec.exec_timeout_s)
            if result.timed_out or result.exit_code not in (0, 1):  # 1: a file changed while it was read
                raise SandboxError(f"snapshot failed (exit {result.exit_code}): {result.stderr.strip()[-500:]}")
            part.replace(dest)
        finally:
            part.unlink(missing_ok=True)
        return dest

    def restore(self, archive: Path) -> None:
        """Unpack the ``.tar.gz`` ``archive`` (a ``snapshot``, untrusted) into ``/workspace``.

        It is scanned on the host first, in a stream that unpacks nothing: past ``archive_bounds`` (at most the
        workspace's size) it raises ``SizeLimitError`` and nothing is unpacked. It then streams into the
        sandbox, which unpacks it as the sandbox user reading at most the scanned number of bytes, within the
        workspace's quota and ``spec.exec_timeout_s``.
        """
        from sandbox.archive import scan

        with open(archive, "rb") as f:
            try:
                tally = scan(f, self.archive_bounds(self.spec.disk_mb << 20))
            except (tarfile.TarError, EOFError, zlib.error) as exc:
                raise SandboxError(f"{archive} is not a readable archive: {exc}") from None
            f.seek(0)
            script = 'cd "$1" && gzip -dc | head -c "$2" | tar -xf -'
            argv = ["sh", "-c", script, "sh", WORKDIR, str(tally.end + 2 * tarfile.RECORDSIZE)]
            result = self._exec_stream(argv, source=_chunks(f), timeout=self.spec.exec_timeout_s)
        self._check(result, f"restore of {archive.name}")

    def archive_bounds(self, max_bytes: int) -> Bounds:
        """What an archive from or for this sandbox may unpack to: ``max_bytes``, and the spec's member and
        ratio limits."""
        from sandbox.archive import Bounds

        return Bounds(max_bytes, self.spec.max_archive_members, self.spec.max_archive_ratio)

    @staticmethod
    def _check(result: ExecResult, what: str) -> None:
        if not result.success:
            raise SandboxError(f"{what} failed (exit {result.exit_code}): {result.stderr.strip()[-500:]}")

    def __enter__(self) -> Sandbox:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def new_id() -> str:
    """A short random sandbox id."""
    return secrets.token_hex(5)


def _chunks(f: IO[bytes]) -> Iterator[bytes]:
    return iter(lambda: f.read(CHUNK), b"")


def _capped(f: IO[bytes], limit: int, what: str) -> Callable[[bytes], None]:
    """A sink writing to ``f`` that raises ``SizeLimitError`` once more than ``limit`` bytes came."""
    written = 0

    def sink(data: bytes) -> None:
        nonlocal written
        written += len(data)
        if written > limit:
            raise SizeLimitError(f"{what} is over the limit of {limit} bytes", limit)
        f.write(data)

    return sink


class SandboxProvider(ABC):
    """Starts sandboxes of one kind and cleans up after them by run label.

    ``root`` is the host folder under which each sandbox gets ``<label>/<id>/`` (its workspace and
    bookkeeping); the default is ``$AAR_HOME/sandboxes``.
    """

    name: ClassVar[str]

    def __init__(self, root: Path | None = None):
        if root is None:
            root = CoreSettings().home / "sandboxes"
        self.root = root.expanduser().resolve()

    @abstractmethod
    def check(self) -> None:
        """Raise ``SandboxUnavailableError`` saying what to install or start when this provider cannot work."""

    @abstractmethod
    def start(self, spec: SandboxSpec) -> Sandbox:
        """Start a sandbox and wait until it answers; raises ``SandboxUnavailableError`` when it cannot."""

    @abstractmethod
    def sweep(self, label: str) -> list[str]:
        """Remove every sandbox of run ``label`` (processes, containers, networks, mounts); returns their ids."""

    @abstractmethod
    def capabilities(self) -> Capabilities:
        """What isolation this provider enforces on this machine, and why a property is missing."""
