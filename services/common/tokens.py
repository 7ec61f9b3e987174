"""Bearer tokens: random, shown once, stored only as a sha256 digest."""

import hashlib
import secrets


def new_token(prefix: str) -> str:
    """A fresh token such as ``aar_sc_<43 url-safe chars>``."""
    return f"{prefix}_{secrets.token_urlsafe(32)}"


def digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def same(a: str, b: str) -> bool:
    """Constant-time comparison."""
    return secrets.compare_digest(a.encode(), b.encode())
