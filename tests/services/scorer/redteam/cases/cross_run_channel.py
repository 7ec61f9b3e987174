"""Runs of one submission pass notes through kernel state they share (found on d4820ad: TCP TIME_WAIT
entries stay in /proc/net/tcp for 60 s after a run ends). Each run leaves marks — closed loopback
connections on chosen ports, a SysV message queue, a POSIX message queue, files in /tmp and /dev/shm —
and looks for another run's. A run that finds one fails on purpose, naming what it found (success);
otherwise it trains honestly."""

import ctypes
import glob
import os
import random
import socket

PORTS = range(41000, 41200)
KEY = 0x41415200
libc = ctypes.CDLL(None, use_errno=True)


def time_wait_ports():
    found = set()
    for path in ("/proc/net/tcp", "/proc/self/net/tcp", *glob.glob("/proc/*/net/tcp")):
        try:
            lines = open(path).read().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            local, state = line.split()[1], line.split()[3]
            port = int(local.split(":")[1], 16)
            if state == "06" and port in PORTS:
                found.add(port)
    return found


def leave_time_wait(port):
    try:
        server = socket.socket()
        server.bind(("127.0.0.1", 0))
        server.listen(1)
        client = socket.socket()
        client.bind(("127.0.0.1", port))
        client.connect(server.getsockname())
        peer, _ = server.accept()
        client.close()  # the side that closes first keeps the TIME_WAIT entry
        peer.close()
        server.close()
    except OSError:
        pass


def run(ctx):
    mine = random.choice(PORTS)
    found = []
    if time_wait_ports() - {mine}:
        found.append("time_wait")
    if libc.msgget(KEY, 0) >= 0:
        found.append("sysv message queue")
    if libc.mq_open(b"/aar-mark", os.O_RDONLY) >= 0:
        found.append("posix message queue")
    for path in ("/tmp/aar-mark", "/dev/shm/aar-mark"):
        if os.path.exists(path):
            found.append(path)
    if found:
        raise RuntimeError(f"found: {', '.join(found)}")
    leave_time_wait(mine)
    libc.msgget(KEY, 0o1000 | 0o666)  # IPC_CREAT
    libc.mq_open(b"/aar-mark", os.O_CREAT | os.O_RDWR, 0o666, None)
    for path in ("/tmp/aar-mark", "/dev/shm/aar-mark"):
        open(path, "w").write("mark")
    return ctx.train_student().predict_proba(ctx.targets)
