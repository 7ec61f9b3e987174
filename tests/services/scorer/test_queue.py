"""The embedded default's queue: messages written by another process while the consumer polls arrive whole.
kombu's own filesystem transport failed this (an empty file read mid-write killed the Celery worker)."""

from __future__ import annotations

import multiprocessing

from kombu import Connection
from kombu.transport import filesystem

from services.scorer.worker.fs_transport import Transport

N = 300


def _channel(transport, folder):
    options = {
        "data_folder_in": str(folder),
        "data_folder_out": str(folder),
        "control_folder": str(folder.parent),
        "store_processed": False,
    }
    return Connection("filesystem://", transport=transport, transport_options=options).channel()


def _produce(transport, folder) -> None:
    channel = _channel(transport, folder)
    for i in range(N):
        channel._put("scoring", {"i": i, "body": list(range(20_000))})  # slow to serialise: a wide window


def drain_while_producing(transport, folder) -> list[int]:
    """Put ``N`` messages from a child process while this one drains the queue; the indices received."""
    folder.mkdir(parents=True)
    consumer = _channel(transport, folder)
    producer = multiprocessing.get_context("fork").Process(target=_produce, args=(transport, folder))
    producer.start()
    got = []
    try:
        while len(got) < N:
            try:
                got.append(consumer._get("scoring")["i"])
            except filesystem.Empty:
                if not producer.is_alive() and not any(p.suffix == ".msg" for p in folder.iterdir()):
                    break
    finally:
        producer.join()
    return got


def test_messages_from_another_process_arrive_whole(tmp_path):
    assert sorted(drain_while_producing(Transport, tmp_path / "messages")) == list(range(N))
