"""Bearer tokens: random, shown once, stored only as a sha256 digest; the shared admin token."""

from __future__ import annotations

import hashlib
import secrets
from pathlib import Path

from w2s.secret import read_or_create


def new_token(prefix: str) -> str:
    """A fresh token such as ``aar_sc_<43 url-safe chars>``."""
    return f"{prefix}_{secrets.token_urlsafe(32)}"


def digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def same(a: str, b: str) -> bool:
    """Constant-time comparison."""
    return secrets.compare_digest(a.encode(), b.encode())


def admin_token(home: Path, configured: str | None) -> str:
    """The admin token: ``AAR_ADMIN_TOKEN`` when set, else one generated once in ``$AAR_HOME/admin-token``
    (mode 0600) and shared by every service on the machine."""
    if configured:
        return configured
    return read_or_create(home / "admin-token", lambda: new_token("aar_admin"))
