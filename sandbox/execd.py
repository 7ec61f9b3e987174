"""The exec server that runs inside every sandbox (standard library only: it runs in minimal images).

``python3 -I execd.py SOCKET WORKDIR`` listens on a Unix socket that the host reaches through a
mounted folder (Docker); ``SOCKET`` may also be ``fd:N``, a listening socket the host bound in a folder
of its own and passed in (bubblewrap), so the sandbox never sees the socket's path. Each connection
carries one request and one response. A frame is a 4-byte big-endian
header length, a JSON header, then the raw payload whose length the header states (``size``).

Requests (``op``):
- ``ping``: who and where the server is.
- ``exec``: ``argv``, ``cwd``, ``env`` (added to the server's own), ``timeout``, ``max_output``; the
  payload is stdin. Reply: ``exit_code`` (negative: killed by that signal), ``timed_out``,
  ``truncated``, ``duration``, ``stdout`` and ``stderr`` byte counts; the payload is stdout + stderr.
  With ``stream: "stdin"`` the request is followed by data frames (at most ``CHUNK`` bytes each) that
  are the command's stdin, an empty one ending it; with ``stream: "stdout"`` the command's stdout comes
  back as ``{"chunk": true}`` frames before the reply instead of in it. Either way nothing is held whole.
- ``read``: ``path``, ``max_bytes``; the payload of the reply is the file. With ``offset``, at most
  ``max_bytes`` from there, whatever the file's size (the reply's ``total``).
- ``write``: ``path``; the payload is the new content (parent folders are created).
Errors come back as ``{"error": {"type": "FileNotFoundError", "message": ...}}``.

Every command process is made a child subreaper before it execs: orphans it leaves (double forks,
``setsid``) are re-parented to it, not to the server, so while it runs its whole tree hangs below it
and a timeout kills that tree by walking ``/proc`` down from it, however the processes regrouped.
Background processes left when a command exits normally keep running (``server &``); the server,
which can run as PID 1, reaps them when they end.

The server makes itself non-dumpable (``PR_SET_DUMPABLE`` 0), so the commands, which run as the same
user, cannot ptrace it, read its memory, or take its descriptors (its log, its listening socket) with
``pidfd_getfd`` or ``/proc/1/fd``; a command is dumpable again from its ``execve`` on.
"""

from __future__ import annotations

import ctypes
import errno
import json
import os
import pwd
import selectors
import signal
import socket
import struct
import sys
import threading
import time
from typing import Any

HEADER = struct.Struct(">I")
MAX_HEADER = 1 << 20
MAX_DEPTH = 4  # the deepest header: {"error": {"type": ...}} or {"env": {...}}
PR_SET_CHILD_SUBREAPER = 36
PR_SET_DUMPABLE = 4
CHUNK = 1 << 20  # the largest data frame of a streamed exec
STREAM_STALL_S = 10.0  # beyond a command's timeout, how long a send or receive on its connection may block
EXIT_GRACE_S = 0.05  # after the command exits, how long to wait for output still held by its children
_libc = ctypes.CDLL(None, use_errno=True)


def send_frame(sock: socket.socket, header: dict[str, Any], payload: bytes = b"") -> None:
    """Write one frame: header (with ``size`` set to the payload length) and payload."""
    data = json.dumps({**header, "size": len(payload)}).encode()
    sock.sendall(HEADER.pack(len(data)) + data)
    if payload:
        sock.sendall(payload)


def _recv_exact(sock: socket.socket, n: int) -> bytes:
    buf = bytearray()
    while len(buf) < n:
        chunk = sock.recv(min(n - len(buf), 1 << 20))
        if not chunk:
            raise ConnectionError("connection closed mid-frame")
        buf += chunk
    return bytes(buf)


def recv_frame(sock: socket.socket, max_payload: int) -> tuple[dict[str, Any], bytes]:
    """Read one frame; refuses headers over 1 MiB and payloads over ``max_payload`` bytes."""
    (length,) = HEADER.unpack(_recv_exact(sock, HEADER.size))
    if length > MAX_HEADER:
        raise ValueError(f"frame header of {length} bytes is too large")
    header = _parse_header(_recv_exact(sock, length))
    size = header.get("size", 0)
    if type(size) is not int or size < 0 or size > max_payload:
        raise ValueError(f"frame payload of {size} bytes exceeds the limit of {max_payload}")
    return header, _recv_exact(sock, size) if size else b""


def _parse_header(data: bytes) -> dict[str, Any]:
    """A frame header: a JSON object nested at most ``MAX_DEPTH`` deep; ``ValueError`` for anything else."""
    try:
        header = json.loads(data)
    except RecursionError:
        raise ValueError("frame header is nested too deeply") from None
    if not isinstance(header, dict):
        raise ValueError("frame header is not a JSON object")
    todo: list[tuple[dict[str, Any] | list[Any], int]] = [(header, 1)]
    while todo:
        value, depth = todo.pop()
        if depth > MAX_DEPTH:
            raise ValueError(f"frame header is nested deeper than {MAX_DEPTH}")
        children = value.values() if isinstance(value, dict) else value if isinstance(value, list) else ()
        todo += [(child, depth + 1) for child in children if isinstance(child, (dict, list))]
    return header


def _descendants(root: int) -> list[int]:
    """Every live (not zombie) process below ``root``, from the parent links in ``/proc``."""
    children: dict[int, list[int]] = {}
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/stat", "rb") as f:
                stat = f.read()
        except OSError:
            continue
        state, ppid = stat[stat.rindex(b")") + 2 :].split()[:2]
        if state != b"Z":
            children.setdefault(int(ppid), []).append(int(name))
    found, todo = [], [root]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def kill_tree(root: int, settle_s: float = 5.0) -> None:
    """SIGKILL everything below ``root`` until nothing is left (forks race the walk), then ``root``; then
    wait up to ``settle_s`` for the killed processes to be reaped, so their pids count no more."""
    killed = set()
    for _ in range(200):
        pids = _descendants(root)
        if not pids:
            break
        for pid in pids:
            try:
                os.kill(pid, signal.SIGKILL)
                killed.add(pid)
            except ProcessLookupError:
                pass
    try:
        os.kill(root, signal.SIGKILL)
        killed.add(root)
    except ProcessLookupError:
        pass
    deadline = time.monotonic() + settle_s
    while any(os.path.exists(f"/proc/{pid}") for pid in killed) and time.monotonic() < deadline:
        time.sleep(0.01)


class _Reaper:
    """Reaps every child of the server (commands and adopted orphans) and hands each command its status.

    Spawning holds the lock from ``fork`` to registration, so a command that exits at once is still
    matched to its run; a pid nobody registered is an adopted orphan and is just reaped.
    """

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.runs: dict[int, _Run] = {}
        self.spawned = threading.Event()
        threading.Thread(target=self._loop, daemon=True).start()

    def _loop(self) -> None:
        while True:
            try:
                pid, status = os.waitpid(-1, 0)
            except ChildProcessError:
                self.spawned.wait()
                self.spawned.clear()
                continue
            except InterruptedError:
                continue
            with self.lock:
                run = self.runs.pop(pid, None)
                if run is not None:
                    run.status = status
                    os.write(run.wake_w, b"x")


def _spawn_child(argv: list[str], cwd: str, env: dict[str, str], fds: tuple[int, int, int], err_w: int) -> None:
    """In the forked child: become a subreaper (kept across execve), a session leader, then the command."""
    try:
        _libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)
        os.setsid()
        signal.signal(signal.SIGPIPE, signal.SIG_DFL)  # Python ignores it; commands expect the default
        for target, fd in enumerate(fds):
            os.dup2(fd, target)
        os.chdir(cwd)
        os.execvpe(argv[0], argv, env)
    except OSError as exc:
        os.write(err_w, f"{type(exc).__name__}:{exc.strerror}".encode()[:512])
    finally:
        os._exit(127)


class _Run:
    """One command with bounded output capture.

    The command process is itself a child subreaper, so while it runs every process it starts stays
    below it, however it regroups (``setsid``, double fork); a timeout kills that whole subtree. When
    the command exits, leftover background processes pass to the server, which reaps them later.
    """

    reaper: _Reaper

    def __init__(self, request: dict[str, Any], stdin: bytes, workdir: str, conn: socket.socket | None = None):
        self.max_output = int(request.get("max_output", 1 << 20))
        self.stream = request.get("stream")
        if self.stream not in (None, "stdin", "stdout") or (self.stream and conn is None):
            raise ValueError(f"unknown stream {self.stream!r}")
        self.conn = conn
        self.out = {"stdout": bytearray(), "stderr": bytearray()}
        self.truncated = False
        self.status: int | None = None
        argv = [str(a) for a in request["argv"]]
        if not argv:
            raise ValueError("argv is empty")
        cwd = os.path.join(workdir, request.get("cwd") or ".")
        if not os.path.isdir(cwd):
            raise FileNotFoundError(2, f"working directory not found: {cwd}")
        env = {**os.environ, **{str(k): str(v) for k, v in (request.get("env") or {}).items()}}
        in_r, in_w = os.pipe()
        out_r, out_w = os.pipe()
        err_r, err_w = os.pipe()
        fail_r, fail_w = os.pipe()  # close-on-exec: EOF with no data means the command started
        wake_r, self.wake_w = os.pipe()
        self.start = time.monotonic()
        with self.reaper.lock:
            self.pid = os.fork()
            if self.pid == 0:
                _spawn_child(argv, cwd, env, (in_r, out_w, err_w), fail_w)
            self.reaper.runs[self.pid] = self
        self.reaper.spawned.set()
        for fd in (in_r, out_w, err_w, fail_w):
            os.close(fd)
        self.stdin, self.failure = stdin, b""
        self.fds = {in_w: "stdin", out_r: "stdout", err_r: "stderr", fail_r: "failure", wake_r: "wake"}
        if self.stream == "stdin":
            del self.fds[in_w]
            threading.Thread(target=self._feed, args=(in_w,), daemon=True).start()

    def _feed(self, fd: int) -> None:
        """Copy the request's data frames to the command's stdin until the empty frame; once the command
        stops reading, drop the rest (so the host is never left blocked mid-send)."""
        assert self.conn is not None
        open_ = True
        try:
            while True:
                _, data = recv_frame(self.conn, CHUNK)
                if not data:
                    break
                while open_ and data:
                    try:
                        data = data[os.write(fd, data) :]
                    except OSError:
                        open_ = False
        except (OSError, ValueError):
            pass
        finally:
            os.close(fd)

    def wait(self, timeout: float) -> dict[str, Any]:
        """Pump stdin/stdout/stderr until the command exits or the deadline passes; return the reply."""
        sel = selectors.DefaultSelector()
        for fd, name in self.fds.items():
            os.set_blocking(fd, False)
            if name == "stdin" and not self.stdin:
                os.close(fd)
            else:
                sel.register(fd, selectors.EVENT_WRITE if name == "stdin" else selectors.EVENT_READ, name)
        try:
            timed_out = self._pump(sel, self.start + timeout)
        finally:
            for key in list(sel.get_map().values()):
                os.close(key.fd)
            sel.close()
            with self.reaper.lock:  # after this the reaper can no longer write to our wake pipe
                self.reaper.runs.pop(self.pid, None)
                os.close(self.wake_w)
        return self._reply(timed_out)

    def _pump(self, sel: selectors.BaseSelector, deadline: float) -> bool:
        """Move the data until the command exits (and its streamed stdout ends) or ``deadline``; whether the
        command timed out."""
        exited_at, sent = None, 0
        streamed = "stdout" if self.stream == "stdout" else None
        while sel.get_map():
            now = time.monotonic()
            if now >= deadline:
                if exited_at is None:
                    kill_tree(self.pid)
                    return True
                return False
            limit = deadline - now
            if exited_at is not None and streamed not in {key.data for key in sel.get_map().values()}:
                if now - exited_at > EXIT_GRACE_S:
                    return False  # background children still hold the pipes: do not wait for them
                limit = exited_at + EXIT_GRACE_S - now
            for key, _ in sel.select(max(limit, 0.001)):
                fd, name = key.fd, key.data
                if name == "stdin":
                    try:
                        sent += os.write(fd, self.stdin[sent : sent + 65536])
                    except BrokenPipeError:
                        sent = len(self.stdin)
                    if sent >= len(self.stdin):
                        sel.unregister(fd)
                        os.close(fd)
                    continue
                chunk = os.read(fd, 65536)
                if name == "wake":
                    exited_at = time.monotonic()
                    sel.unregister(fd)
                    os.close(fd)
                elif not chunk:
                    sel.unregister(fd)
                    os.close(fd)
                elif name == "failure":
                    self.failure += chunk
                elif name == streamed:
                    self._send_chunk(chunk)
                else:
                    self._keep(name, chunk)
        return False

    def _send_chunk(self, chunk: bytes) -> None:
        """Stream stdout to the host; a host that hung up or stopped reading ends the command."""
        assert self.conn is not None
        try:
            send_frame(self.conn, {"chunk": True}, chunk)
        except OSError:
            kill_tree(self.pid)
            raise

    def _keep(self, name: str, chunk: bytes) -> None:
        room = self.max_output - len(self.out[name])
        if len(chunk) > room:
            self.truncated = True
        self.out[name] += chunk[: max(room, 0)]

    def _reply(self, timed_out: bool) -> dict[str, Any]:
        reply = {"timed_out": timed_out, "truncated": self.truncated, "duration": time.monotonic() - self.start}
        if self.failure:
            kind, _, message = self.failure.decode(errors="replace").partition(":")
            reply["exit_code"] = 126 if kind == "PermissionError" else 127
            self.out["stderr"] += f"execd: cannot run the command: {kind}: {message}\n".encode()
        elif timed_out or self.status is None:
            reply["exit_code"] = -signal.SIGKILL
        else:
            code = self.status
            reply["exit_code"] = -os.WTERMSIG(code) if os.WIFSIGNALED(code) else os.WEXITSTATUS(code)
        return reply


def _read(request: dict[str, Any], workdir: str) -> tuple[bytes, int]:
    """The file's bytes (at most ``max_bytes`` from ``offset`` when given) and its size."""
    path = os.path.join(workdir, request["path"])
    with open(path, "rb") as f:
        size = os.fstat(f.fileno()).st_size
        limit = int(request["max_bytes"])
        if "offset" in request:
            f.seek(int(request["offset"]))
        elif size > limit:
            raise OverflowError(f"{request['path']} is {size} bytes: over the limit of {limit} bytes")
        return f.read(limit + 1)[:limit], size


def _write(request: dict[str, Any], payload: bytes, workdir: str) -> None:
    path = os.path.join(workdir, request["path"])
    if os.path.isdir(path):
        raise IsADirectoryError(21, f"is a directory: {request['path']}")
    parent = os.path.dirname(path)
    if parent:
        os.makedirs(parent, exist_ok=True)
    with open(path, "wb") as f:
        f.write(payload)


def handle(conn: socket.socket, workdir: str, max_payload: int) -> None:
    """Serve one request on ``conn`` and close it."""
    with conn:
        try:
            request, payload = recv_frame(conn, max_payload)
            op = request.get("op")
            if op == "ping":
                send_frame(conn, {"ok": True, "pid": os.getpid(), "uid": os.getuid(), "user": _user(), "cwd": workdir})
            elif op == "exec":
                timeout = float(request.get("timeout", 600))
                conn.settimeout(timeout + STREAM_STALL_S)  # a host that stops reading or sending ends the run
                run = _Run(request, payload, workdir, conn)
                reply = run.wait(timeout)
                out, err = bytes(run.out["stdout"]), bytes(run.out["stderr"])
                send_frame(conn, {**reply, "stdout": len(out), "stderr": len(err)}, out + err)
            elif op == "read":
                data, size = _read(request, workdir)
                send_frame(conn, {"ok": True, "total": size}, data)
            elif op == "write":
                _write(request, payload, workdir)
                send_frame(conn, {"ok": True})
            else:
                raise ValueError(f"unknown op {op!r}")
        except (OSError, ValueError, KeyError, RuntimeError, OverflowError) as exc:
            kind = "PermissionError" if getattr(exc, "errno", None) == errno.EROFS else type(exc).__name__
            try:
                send_frame(conn, {"error": {"type": kind, "message": str(exc)}})
            except OSError:
                pass


def _user() -> str:
    try:
        return pwd.getpwuid(os.getuid()).pw_name
    except KeyError:
        return str(os.getuid())


def _listen(path: str) -> socket.socket:
    """The listening socket: inherited (``fd:N``, kept from the commands) or bound at ``path``."""
    if path.startswith("fd:"):
        fd = int(path[3:])
        os.set_inheritable(fd, False)
        return socket.socket(fileno=fd)
    if os.path.lexists(path):
        os.unlink(path)
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    server.bind(path + ".new")
    os.chmod(path + ".new", 0o600)
    server.listen(64)
    os.rename(path + ".new", path)  # the host sees the socket only once it accepts connections
    return server


def serve(path: str, workdir: str, max_payload: int = 1 << 31) -> None:
    """Listen on ``path`` (or the inherited ``fd:N``) and serve each connection in its own thread, forever."""
    if _libc.prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_DUMPABLE, 0)")
    _libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)
    signal.signal(signal.SIGTERM, lambda *_: os._exit(0))
    _Run.reaper = _Reaper()
    server = _listen(path)
    while True:
        conn, _ = server.accept()
        threading.Thread(target=handle, args=(conn, workdir, max_payload), daemon=True).start()


if __name__ == "__main__":
    serve(sys.argv[1], sys.argv[2])
