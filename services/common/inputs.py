"""One validator for the request line of every service: a path or query string that is not printable text is
answered 400 before any route sees it.

Allow-list: a path segment may hold printable characters only; a query value may also hold tab, newline and
carriage return (a multi-line search). Everything else — NUL (which Postgres refuses in text, so it used to
reach the database and come back as a 500), other control characters, lone surrogates, bytes that are not
UTF-8 — is refused here, whatever the route's own parameter types say.
"""

from __future__ import annotations

import json
from urllib.parse import parse_qsl, unquote_to_bytes

QUERY_WHITESPACE = frozenset("\t\n\r")


def invalid_text(value: str, allowed: frozenset[str] = frozenset()) -> str | None:
    """Why ``value`` is not acceptable text (``None`` when it is): the first character outside the allow-list."""
    for char in value:
        if not char.isprintable() and char != " " and char not in allowed:
            return f"character U+{ord(char):04X} is not allowed"
    return None


def request_line_problem(raw_path: bytes, query_string: bytes) -> str | None:
    """What is wrong with a request's path or query string, or ``None``."""
    try:
        path = unquote_to_bytes(raw_path).decode("utf-8")
        query = parse_qsl(query_string.decode("latin-1"), keep_blank_values=True, encoding="utf-8", errors="strict")
    except UnicodeDecodeError:
        return "the path or query string is not UTF-8"
    problem = invalid_text(path)
    if problem:
        return f"path: {problem}"
    for key, value in query:
        problem = invalid_text(key) or invalid_text(value, QUERY_WHITESPACE)
        if problem:
            return f"query parameter {key!r}: {problem}"
    return None


class ValidRequestLine:
    """Plain ASGI middleware that answers 400 ``{"detail": ...}`` to a request whose path or query string
    fails ``request_line_problem``."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] == "http":
            raw_path = scope.get("raw_path") or scope["path"].encode("utf-8", "surrogatepass")
            problem = request_line_problem(raw_path, scope.get("query_string", b""))
            if problem:
                body = json.dumps({"detail": f"invalid request: {problem}"}).encode()
                headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
                await send({"type": "http.response.start", "status": 400, "headers": headers})
                await send({"type": "http.response.body", "body": body})
                return
        await self.app(scope, receive, send)
