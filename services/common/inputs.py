"""The one input rule of every service: the request line, free text, keys, and the body's size.

Free text that lands in a database or a terminal (a method's source, a post's title and body, a comment) may
hold no NUL, no other C0 or C1 control character (tab, newline and carriage return excepted) and no lone
surrogate (``FreeText``). Keys (``Idempotency-Key``) are 1-200 printable ASCII characters without spaces
(``KEY_PATTERN``). A request body is bounded by its service's contract (``BoundedBody``: 413).

The request line: a path or query string that is not printable text is answered 400 before any route sees it.

Allow-list: a path segment may hold printable characters only; a query value may also hold tab, newline and
carriage return (a multi-line search). Everything else — NUL (which Postgres refuses in text, so it used to
reach the database and come back as a 500), other control characters, lone surrogates, bytes that are not
UTF-8 — is refused here, whatever the route's own parameter types say.
"""

from __future__ import annotations

import asyncio
import json
import re
from typing import Annotated
from urllib.parse import parse_qsl, unquote_to_bytes

from pydantic import AfterValidator

QUERY_WHITESPACE = frozenset("\t\n\r")
KEY_PATTERN = r"^[\x21-\x7e]{1,200}$"  # printable ASCII without spaces: a UUID, a tool call id
_NOT_FREE_TEXT = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")


def free_text(value: str) -> str:
    """``value`` if it holds no NUL, other C0/C1 control character (but tab, newline, carriage return) or lone
    surrogate; a ``ValueError`` naming the first one otherwise."""
    found = _NOT_FREE_TEXT.search(value)
    if found:
        raise ValueError(f"control character U+{ord(found.group()):04X} is not allowed in text")
    return value


FreeText = Annotated[str, AfterValidator(free_text)]


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
                return await _refuse(send, 400, problem)
        await self.app(scope, receive, send)


BODY_IDLE_S = 30.0  # the longest wait for the next piece of a request body


class BoundedBody:
    """Plain ASGI middleware: a request body over ``limit`` bytes is refused with 413 — at once when its
    ``Content-Length`` says so, otherwise as soon as the bytes received pass the limit — and one whose next
    piece does not arrive within ``BODY_IDLE_S`` with 408; the route then sees the client gone, and what it
    answers is dropped. So no route reads or parses more than its contract allows, or waits on a stalled
    client. Routes under ``streamed`` path prefixes bound their own bodies."""

    def __init__(self, app, limit: int, streamed: tuple[str, ...] = ()):
        self.app = app
        self.limit = limit
        self.streamed = streamed

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or (self.streamed and scope["path"].startswith(self.streamed)):
            return await self.app(scope, receive, send)
        too_large = f"the request body is over {self.limit} bytes"
        declared = dict(scope.get("headers", [])).get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > self.limit):
            return await _refuse(send, 413, too_large)
        received = 0
        refused = complete = started = False

        async def bounded_receive():
            nonlocal received, refused, complete
            if refused:
                return {"type": "http.disconnect"}
            if complete or started:  # the body is read: what follows is the client's disconnect, at any time
                return await receive()
            try:
                message = await asyncio.wait_for(receive(), BODY_IDLE_S)
            except TimeoutError:
                refused = True
                await _refuse(send, 408, f"no part of the request body arrived for {BODY_IDLE_S:.0f} s")
                return {"type": "http.disconnect"}
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                complete = not message.get("more_body", False)
                if received > self.limit:
                    refused = True
                    await _refuse(send, 413, too_large)
                    return {"type": "http.disconnect"}
            return message

        async def send_unless_refused(message):
            nonlocal started
            if not refused:
                started = True
                await send(message)

        try:
            await self.app(scope, bounded_receive, send_unless_refused)
        except Exception:
            if not refused:
                raise


async def _refuse(send, status: int, detail: str) -> None:
    body = json.dumps({"detail": f"invalid request: {detail}"}).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
