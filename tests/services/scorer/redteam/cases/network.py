"""Reach anything over the network: the scorer API, the database, Redis, the Docker engine, DNS."""

import socket

TARGETS = [("127.0.0.1", p) for p in (5432, 6379, 8000, 8100, 8200, 8300, 2375, 80, 443)] + [("10.0.0.1", 80)]


def run(ctx):
    reached = []
    for host, port in TARGETS:
        try:
            with socket.create_connection((host, port), timeout=0.5):
                reached.append(f"{host}:{port}")
        except OSError:
            pass
    try:
        socket.getaddrinfo("pypi.org", 443)
        reached.append("dns")
    except OSError:
        pass
    for path in ("/run/docker.sock", "/var/run/docker.sock", "/var/run/postgresql/.s.PGSQL.5432"):
        try:
            s = socket.socket(socket.AF_UNIX)
            s.connect(path)
            reached.append(path)
        except OSError:
            pass
    if reached:  # success shows as a finished submission
        return [0.1] * len(ctx.targets)
    raise RuntimeError("nothing found")
