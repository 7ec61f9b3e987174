"""The deployment's scoring secret: what decides split membership, item ids and every order a method sees.

Nothing a client or a method can see is derived from a public constant. Split membership, the order of
each split, item ids (an HMAC of the text), the order of a method's targets, the seed a method is told
and the place of the control runs among the real ones are all keyed by this secret. It comes from
``AAR_SCORING_SECRET`` or is generated once in ``$AAR_HOME/scoring-secret`` (mode 0600), the trusted
side's home that no jail or sandbox ever sees. Changing it re-splits every task and re-baselines.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from collections.abc import Callable
from pathlib import Path

import numpy as np

from w2s.config import get_settings

SECRET_FILE = "scoring-secret"


def read_or_create(path: Path, make: Callable[[], str]) -> str:
    """The text of ``path``; created first with ``make()`` (mode 0600, race-free) when it does not exist."""
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:  # another process created it first
            return path.read_text().strip()
        with os.fdopen(fd, "w") as f:
            f.write(make())
    return path.read_text().strip()


def scoring_secret() -> bytes:
    """The secret: ``AAR_SCORING_SECRET`` when set, else generated once under ``AAR_HOME``."""
    settings = get_settings()
    if settings.scoring_secret is not None:
        return settings.scoring_secret.get_secret_value().encode()
    return read_or_create(settings.home / SECRET_FILE, lambda: secrets.token_hex(32)).encode()


# The keyed HMAC of this process's settings, read once per settings instance (tests that change the secret
# clear ``get_settings``): the splits alone take 32,322 HMACs, and reading the secret file for each was most
# of the 2.5 s a fresh process spent on them.
_mac: tuple[object, hmac.HMAC] | None = None


def _keyed_mac() -> hmac.HMAC:
    global _mac
    settings = get_settings()
    if _mac is None or _mac[0] is not settings:
        _mac = (settings, hmac.new(scoring_secret(), digestmod=hashlib.sha256))
    return _mac[1]


def keyed(*parts: object) -> bytes:
    """HMAC-SHA256 of ``parts`` under the scoring secret (parts are joined unambiguously)."""
    mac = _keyed_mac().copy()
    mac.update("\x1f".join(str(p) for p in parts).encode())
    return mac.digest()


def keyed_hex(*parts: object, length: int = 16) -> str:
    """``keyed(parts)`` as ``length`` hex digits: opaque ids and fingerprints."""
    return keyed(*parts).hex()[:length]


def keyed_int(*parts: object, bits: int = 31) -> int:
    """A non-negative integer below ``2**bits`` that only the secret's holder can compute."""
    return int.from_bytes(keyed(*parts)[:8], "big") >> (64 - bits)


def keyed_rng(*parts: object) -> np.random.Generator:
    """A random generator seeded from the secret and ``parts``."""
    return np.random.default_rng(int.from_bytes(keyed(*parts), "big"))


def fingerprint() -> str:
    """A public digest of the secret (never the secret): part of every cache key, so a new secret
    re-baselines."""
    return keyed_hex("fingerprint")
