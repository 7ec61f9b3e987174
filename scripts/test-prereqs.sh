#!/usr/bin/env bash
# What `make test` needs, brought up when missing (idempotent; seconds when everything is up):
# Postgres and Redis for the production-column tests, bubblewrap, nftables and debootstrap for the sandboxes,
# a Docker engine with the compose stack's and the sandbox's images, Chromium for the dashboard's browser test.
# Tests marked `docker` or `browser` fail (never skip) without them. BIN: the virtualenv's bin folder.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN="${BIN:-.venv/bin}"

as_root() {
  if [ "$(id -u)" = 0 ]; then "$@"; elif command -v sudo >/dev/null; then sudo "$@"; else
    echo "test-prereqs: run as root (or install sudo) to: $*" >&2; return 1; fi
}

missing=""
for tool in bwrap:bubblewrap debootstrap:debootstrap nft:nftables dockerd:docker.io chromium:chromium \
            pg_ctlcluster:postgresql redis-server:redis-server; do
  command -v "${tool%%:*}" >/dev/null || missing="$missing ${tool#*:}"
done
if [ -n "$missing" ]; then
  echo "test-prereqs: installing$missing" >&2
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $missing
fi

# Services used by the production-column tests (scorer, forum): start them if they are down.
if ! pg_isready -h 127.0.0.1 -q 2>/dev/null; then
  as_root pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | sort -V | tail -1)" main start
  for _ in $(seq 30); do pg_isready -h 127.0.0.1 -q && break; sleep 1; done
fi
if ! redis-cli -h 127.0.0.1 ping >/dev/null 2>&1; then
  redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save '' --appendonly no \
    --maxmemory-policy noeviction
fi

if ! docker info >/dev/null 2>&1; then
  (as_root setsid dockerd >/tmp/dockerd.log 2>&1 &)
  for _ in $(seq 60); do docker info >/dev/null 2>&1 && break; sleep 1; done
  docker info >/dev/null 2>&1 || { tail -20 /tmp/dockerd.log; echo "dockerd did not start" >&2; exit 1; }
fi
# The images, with no registry: each stage is tagged by a hash of its inputs, so unchanged stages are reused.
AAR_WHEELHOUSE="${AAR_WHEELHOUSE:-/var/cache/aar/wheels}" "$BIN/aar" images build
