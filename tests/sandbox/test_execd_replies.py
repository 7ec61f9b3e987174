"""A sandbox can replace its exec server: every malformed reply must map to ``SandboxUnavailableError``."""

from __future__ import annotations

import json
import struct
import threading
from contextlib import contextmanager
from pathlib import Path

import pytest

from sandbox.base import SandboxSpec, SandboxUnavailableError
from sandbox.client import ExecdClient, ExecdSandbox, listen_unix


class NoTeardown:
    def teardown(self, folder: Path) -> None:
        pass


@contextmanager
def fake_server(folder: Path, reply: bytes):
    """A server at ``folder/ctl/execd.sock`` that answers every request with the raw bytes ``reply``."""
    (folder / "ctl").mkdir(parents=True)
    server = listen_unix(folder / "ctl" / "execd.sock")
    stop = threading.Event()

    def serve():
        server.settimeout(0.1)
        while not stop.is_set():
            try:
                conn, _ = server.accept()
            except OSError:
                continue
            with conn:
                conn.recv(1 << 16)
                conn.sendall(reply)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield folder / "ctl" / "execd.sock"
    finally:
        stop.set()
        thread.join()
        server.close()


def frame(header: bytes, payload: bytes = b"") -> bytes:
    return struct.pack(">I", len(header)) + header + payload


MALFORMED = {
    "nested_list": frame(b"[" * 100_000 + b"]" * 100_000),
    "nested_object": frame(b'{"a":' * 50_000 + b"1" + b"}" * 50_000),
    "deep_but_small": frame(json.dumps({"error": {"type": {"x": {"y": {"z": 1}}}}}).encode()),
    "not_an_object": frame(b'"just a string"'),
    "not_json": frame(b"\xff\xfe garbage"),
    "size_not_int": frame(b'{"size": "12"}'),
    "negative_size": frame(b'{"size": -5}'),
    "error_not_object": frame(b'{"error": "boom", "size": 0}'),
    "exec_fields_missing": frame(b'{"size": 0}'),
    "exec_fields_wrong_type": frame(
        b'{"size": 0, "stdout": [], "exit_code": "x", "truncated": 0, "timed_out": 0, "duration": 0}'
    ),
    "truncated_frame": struct.pack(">I", 100) + b'{"si',
}


@pytest.mark.parametrize("case", list(MALFORMED))
def test_a_malformed_reply_is_the_documented_error(tmp_path, case):
    with fake_server(tmp_path / "sb", MALFORMED[case]):
        sb = ExecdSandbox(NoTeardown(), tmp_path / "sb", SandboxSpec(label="replies"), {})
        with pytest.raises(SandboxUnavailableError):
            sb.exec(["true"], timeout=2)


def test_the_client_refuses_a_link_in_place_of_the_socket(tmp_path):
    """The host never follows a link the sandbox put where the socket was, even to a live socket."""
    with fake_server(tmp_path / "other", frame(b'{"ok": true, "size": 0}')) as other:
        ctl = tmp_path / "sb" / "ctl"
        ctl.mkdir(parents=True)
        (ctl / "execd.sock").symlink_to(other)
        with pytest.raises(SandboxUnavailableError, match="not the exec server's socket|Too many levels"):
            ExecdClient(ctl / "execd.sock").call({"op": "ping"}, timeout=2, max_reply=0)
        assert ExecdClient(other).call({"op": "ping"}, timeout=2, max_reply=0)[0]["ok"] is True


def test_a_replaced_socket_is_refused_by_inode(tmp_path):
    with fake_server(tmp_path / "sb", frame(b'{"ok": true, "size": 0}')) as path:
        inode = path.stat().st_ino
        assert ExecdClient(path, inode).call({"op": "ping"}, timeout=2, max_reply=0)[0]["ok"]
        with pytest.raises(SandboxUnavailableError, match="replaced"):
            ExecdClient(path, inode + 1).call({"op": "ping"}, timeout=2, max_reply=0)
