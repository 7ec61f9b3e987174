"""The host side of the exec server: one Unix-socket connection per request, replies mapped to the contract.

Everything the server says is treated as untrusted input: a process inside the sandbox could replace
the server, so every reply is bounded in size before it is read.
"""

from __future__ import annotations

import builtins
import os
import shutil
import socket
import stat
import time
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any, Protocol

from sandbox.base import (
    SANDBOX_USER,
    ExecResult,
    Sandbox,
    SandboxError,
    SandboxSpec,
    SandboxUnavailableError,
    SizeLimitError,
)
from sandbox.execd import CHUNK, recv_frame, send_frame

FILE_ERRORS = ("FileNotFoundError", "IsADirectoryError", "NotADirectoryError", "PermissionError", "FileExistsError")
HANDSHAKE_S = 10.0  # beyond a command's own timeout, how long a reply may take


def listen_unix(path: Path) -> socket.socket:
    """A listening Unix socket bound at ``path`` (through its folder's ``/proc/self/fd`` entry, so a path past
    AF_UNIX's 108-byte limit works too)."""
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    folder = os.open(path.parent, os.O_PATH | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC)
    try:
        sock.bind(f"/proc/self/fd/{folder}/{path.name}")
        sock.listen(64)
    except OSError:
        sock.close()
        raise
    finally:
        os.close(folder)
    return sock


class ExecdClient:
    """Talks to one exec server at ``socket_path``.

    The path is never followed: its folder is opened without following a link, the entry in it
    without following a link either, and only a socket on the folder's own filesystem (with inode
    ``inode`` when given) is connected to, through ``/proc/self/fd``. So a sandbox that can write in
    that folder (Docker) can break its own exec server, never redirect the host to another socket.
    """

    def __init__(self, socket_path: Path, inode: int | None = None):
        self.socket_path = socket_path
        self.inode = inode

    def call(
        self,
        header: dict[str, Any],
        payload: bytes = b"",
        *,
        timeout: float,
        max_reply: int,
        source: Iterable[bytes] | None = None,
        sink: Callable[[bytes], None] | None = None,
    ) -> tuple[dict[str, Any], bytes]:
        """Send one request and return the reply; raises ``SandboxUnavailableError`` if the server is
        unreachable or its reply is malformed, or takes longer than ``timeout`` in all.

        ``source``'s chunks follow the request as data frames, an empty one ending them; each ``chunk`` frame
        that comes before the reply goes to ``sink`` (whose exceptions end the call, and so the command)."""
        deadline = time.monotonic() + timeout
        try:
            with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
                sock.settimeout(timeout)
                self._connect(sock)
                send_frame(sock, header, payload)
                if source is not None:
                    _send_all(sock, source)
                while True:
                    reply, data = recv_frame(sock, max(max_reply, CHUNK) if sink else max_reply)
                    if sink is None or reply.get("chunk") is not True:
                        break
                    if time.monotonic() > deadline:
                        raise TimeoutError(f"the stream took longer than {timeout:.0f} s")
                    _deliver(sink, data)
        except (OSError, ConnectionError, ValueError) as exc:
            raise SandboxUnavailableError(f"exec server at {self.socket_path} did not answer: {exc}") from exc
        error = reply.get("error")
        if error:
            if not isinstance(error, dict):
                raise SandboxUnavailableError(
                    f"exec server at {self.socket_path} sent a malformed error: {error!r:.200}"
                )
            kind, message = str(error.get("type", "")), str(error.get("message", ""))
            if kind in FILE_ERRORS:
                raise getattr(builtins, kind)(message)
            if kind == "OverflowError":
                raise SizeLimitError(message, int(header.get("max_bytes", 0)))
            if kind == "ValueError":
                raise ValueError(message)
            raise SandboxError(f"exec server: {kind}: {message}")
        return reply, data

    def _connect(self, sock: socket.socket) -> None:
        """Connect to the socket itself, checked, whatever links the sandbox put in its folder."""
        flags = os.O_PATH | os.O_NOFOLLOW | os.O_CLOEXEC
        folder = os.open(self.socket_path.parent, flags | os.O_DIRECTORY)
        try:
            entry = os.open(self.socket_path.name, flags, dir_fd=folder)
            try:
                found, home = os.fstat(entry), os.fstat(folder)
                if not stat.S_ISSOCK(found.st_mode) or found.st_dev != home.st_dev:
                    raise ConnectionRefusedError(f"{self.socket_path} is not the exec server's socket")
                if self.inode is not None and found.st_ino != self.inode:
                    raise ConnectionRefusedError(f"{self.socket_path} was replaced")
                sock.connect(f"/proc/self/fd/{entry}")
            finally:
                os.close(entry)
        finally:
            os.close(folder)

    def pin(self) -> None:
        """Accept only the socket that is there now (trust on first use: call it before any command runs)."""
        folder = os.open(self.socket_path.parent, os.O_PATH | os.O_NOFOLLOW | os.O_DIRECTORY | os.O_CLOEXEC)
        try:
            self.inode = os.stat(self.socket_path.name, dir_fd=folder, follow_symlinks=False).st_ino
        finally:
            os.close(folder)

    def wait_ready(self, timeout: float, alive: Callable[[], bool]) -> dict[str, Any]:
        """Ping until the server answers (or ``alive()`` turns false, or ``timeout`` passes)."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                return self.call({"op": "ping"}, timeout=2, max_reply=0)[0]
            except SandboxUnavailableError as exc:
                if not alive():
                    raise SandboxUnavailableError(f"the sandbox exited before its exec server answered: {exc}") from exc
                if time.monotonic() > deadline:
                    raise
            time.sleep(0.02)


def _send_all(sock: socket.socket, source: Iterable[bytes]) -> None:
    """The data frames of a streamed request. A server that stopped reading (it failed, and says why in its
    reply) ends the sending, not the call."""
    try:
        for chunk in source:
            for i in range(0, len(chunk), CHUNK):
                send_frame(sock, {}, chunk[i : i + CHUNK])
        send_frame(sock, {}, b"")
    except (BrokenPipeError, ConnectionResetError):
        pass


def _deliver(sink: Callable[[bytes], None], data: bytes) -> None:
    try:
        sink(data)
    except OSError as exc:  # the host's own failure (a full disk), not the sandbox's
        raise SandboxError(f"the host could not store the stream: {exc}") from exc


class Teardown(Protocol):
    def teardown(self, folder: Path) -> None: ...


class ExecdSandbox(Sandbox):
    """A sandbox whose commands and files go through an exec server inside it (Docker and bubblewrap).

    Its host folder holds ``workspace/`` and the server's socket in ``ctl/``; ``stop`` hands the folder
    to the provider's ``teardown``.
    """

    def __init__(self, provider: Teardown, folder: Path, spec: SandboxSpec, endpoints: dict[str, str]):
        super().__init__(folder.name, spec, folder / "workspace", endpoints)
        self.provider, self.folder = provider, folder
        self.client = ExecdClient(folder / "ctl" / "execd.sock")
        self.stopped = False

    def stop(self) -> None:
        if not self.stopped:
            self.stopped = True
            self.provider.teardown(self.folder)

    def discard(self) -> None:
        self.stop()
        shutil.rmtree(self.folder, ignore_errors=True)

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
        if user not in (None, SANDBOX_USER):
            raise PermissionError(f"commands run only as {SANDBOX_USER!r} in this sandbox, not {user!r}")
        argv = ["/bin/sh", "-c", cmd] if isinstance(cmd, str) else list(cmd)
        timeout = self.spec.exec_timeout_s if timeout is None else timeout
        data = stdin.encode() if isinstance(stdin, str) else stdin or b""
        request = {
            "op": "exec",
            "argv": argv,
            "cwd": cwd,
            "env": dict(env or {}),
            "timeout": timeout,
            "max_output": self.spec.max_output_bytes,
        }
        reply, out = self._call(request, data, timeout=timeout + HANDSHAKE_S, max_reply=2 * self.spec.max_output_bytes)
        return self._result(reply, out)

    def _exec_stream(
        self,
        argv: list[str],
        *,
        source: Iterable[bytes] | None = None,
        sink: Callable[[bytes], None] | None = None,
        timeout: float,
    ) -> ExecResult:
        if (source is None) == (sink is None):
            raise ValueError("a streamed exec takes a source or a sink, not both")
        request = {
            "op": "exec",
            "argv": argv,
            "timeout": timeout,
            "max_output": self.spec.max_output_bytes,
            "stream": "stdin" if source is not None else "stdout",
        }
        limit = timeout + HANDSHAKE_S
        reply, out = self._call(
            request, timeout=limit, max_reply=2 * self.spec.max_output_bytes, source=source, sink=sink
        )
        return self._result(reply, out)

    def _result(self, reply: dict[str, Any], out: bytes) -> ExecResult:
        try:
            n = int(reply["stdout"])
            return ExecResult(
                exit_code=int(reply["exit_code"]),
                stdout=out[:n].decode("utf-8", errors="replace"),
                stderr=out[n:].decode("utf-8", errors="replace"),
                truncated=bool(reply["truncated"]),
                timed_out=bool(reply["timed_out"]),
                duration=float(reply["duration"]),
            )
        except (KeyError, TypeError, ValueError, OverflowError) as exc:
            raise SandboxUnavailableError(f"sandbox {self.id}: malformed exec reply: {exc!r:.200}") from exc

    def _read_bytes(self, path: str, max_bytes: int) -> bytes:
        request = {"op": "read", "path": path, "max_bytes": max_bytes}
        return self._call(request, timeout=HANDSHAKE_S + max_bytes / 50e6, max_reply=max_bytes)[1]

    def read_range(self, path: str, offset: int, length: int) -> tuple[bytes, int]:
        request = {"op": "read", "path": path, "max_bytes": length, "offset": offset}
        reply, data = self._call(request, timeout=HANDSHAKE_S + length / 50e6, max_reply=length)
        try:
            return data, int(reply["total"])
        except (KeyError, TypeError, ValueError) as exc:
            raise SandboxUnavailableError(f"sandbox {self.id}: malformed read reply: {exc!r:.200}") from exc

    def _write_bytes(self, path: str, data: bytes) -> None:
        self._call({"op": "write", "path": path}, data, timeout=HANDSHAKE_S + len(data) / 50e6, max_reply=0)

    def _call(
        self, header: dict[str, Any], payload: bytes = b"", *, timeout: float, max_reply: int, **stream: Any
    ) -> tuple[dict[str, Any], bytes]:
        if self.stopped:
            raise SandboxUnavailableError(f"sandbox {self.id} is stopped")
        try:
            return self.client.call(header, payload, timeout=timeout, max_reply=max_reply, **stream)
        except SandboxUnavailableError as exc:
            raise SandboxUnavailableError(f"sandbox {self.id}: {self.diagnose() or exc}") from exc

    def diagnose(self) -> str:
        """Why the sandbox stopped answering, when the provider can tell (for error messages)."""
        return ""
