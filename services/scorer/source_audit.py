"""The source audit at intake: methods carry code, not data.

A method may know labels it was never given (both built-in tasks are public datasets) and carry them in
its source. ``audit`` measures what a source could carry: its string and bytes literals and comments
(the largest, all together, and those that look encoded — no whitespace, a base64 or hex alphabet, high
entropy), its numeric constants, its distinct identifiers, whether it reads its own file (data hidden in
comments) and which decoders it calls. Each limit sits far above what the built-ins and ordinary methods
use (``docs/scorer.md`` gives the numbers); a source over any limit gets the ``embedded_data`` flag, with
these measures as the admins' evidence. The audit reads the source only, so the agent may see the flag.
"""

from __future__ import annotations

import ast
import io
import math
import re
import tokenize
from collections import Counter
from typing import Any

MAX_LITERAL_CHARS = 4096  # one string or bytes literal (or comment)
MAX_TEXT_CHARS = 16384  # every literal and comment together, docstrings included
MAX_ENCODED_CHARS = 256  # literals and comment words that look encoded
MAX_NUMBERS = 256  # numeric constants
MAX_NAMES = 800  # distinct identifiers (data can be spelt as names too)
ENCODED = re.compile(r"^[A-Za-z0-9+/=_\-]{16,}$")
DECODERS = frozenset(
    "b64decode b32decode b16decode b85decode a85decode decodebytes decompress fromhex unhexlify loads frombuffer "
    "literal_eval getsource getlines".split()
)
SELF_NAMES = frozenset({"__file__", "__loader__", "__spec__", "__cached__", "linecache", "getsource", "getsourcelines"})


def entropy(text: str) -> float:
    """Shannon entropy of ``text``'s characters, in bits per character."""
    counts = Counter(text)
    n = len(text)
    return -sum(c / n * math.log2(c / n) for c in counts.values()) if n else 0.0


def looks_encoded(word: str) -> bool:
    """A token that reads as data: long, no whitespace, a base64 or hex alphabet, mixing digits and letters
    at a high entropy (words and identifiers do not)."""
    return bool(ENCODED.match(word)) and any(c.isdigit() for c in word) and entropy(word) >= 3.0


def _encoded_chars(text: str) -> int:
    return sum(len(word) for word in text.split() if looks_encoded(word))


def audit(source: str) -> dict[str, Any]:
    """The measures of ``source`` and the limits it exceeds (``findings``: empty for ordinary methods)."""
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError) as exc:
        return {"parse_error": f"{type(exc).__name__}: {exc}"[:200], "findings": []}
    texts: list[tuple[int, int, int]] = []  # (line, chars, encoded chars)
    numbers = 0
    names: set[str] = set()
    decoders: set[str] = set()
    self_read = False
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant):
            constant = node.value
            if isinstance(constant, bytes):
                texts.append((node.lineno, len(constant), len(constant)))  # bytes literals are data
            elif isinstance(constant, str):
                texts.append((node.lineno, len(constant), _encoded_chars(constant)))
                self_read |= "/job" in constant
            elif isinstance(constant, (int, float, complex)) and not isinstance(constant, bool):
                numbers += 1
        elif isinstance(node, ast.Name):
            names.add(node.id)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, ast.Attribute):
            names.add(node.attr)
            if node.attr in DECODERS:
                decoders.add(node.attr)
        elif isinstance(node, ast.arg):
            names.add(node.arg)
    try:
        for token in tokenize.generate_tokens(io.StringIO(source).readline):
            if token.type == tokenize.COMMENT:
                texts.append((token.start[0], len(token.string), _encoded_chars(token.string)))
    except (tokenize.TokenError, SyntaxError):
        pass
    largest = max(texts, key=lambda t: t[1], default=(0, 0, 0))
    text_chars, encoded_chars = sum(t[1] for t in texts), sum(t[2] for t in texts)
    measures = {
        "chars": len(source),
        "text_chars": text_chars,
        "largest_text": {"line": largest[0], "chars": largest[1]},
        "encoded_chars": encoded_chars,
        "encoded_lines": sorted({t[0] for t in texts if t[2]})[:20],
        "numbers": numbers,
        "names": len(names),
        "reads_own_source": self_read or bool(names & SELF_NAMES),
        "decoders": sorted(decoders),
    }
    findings = []
    for measure, amount, limit in (
        ("largest literal or comment (chars)", largest[1], MAX_LITERAL_CHARS),
        ("literals and comments (chars)", text_chars, MAX_TEXT_CHARS),
        ("encoded-looking text (chars)", encoded_chars, MAX_ENCODED_CHARS),
        ("numeric constants", numbers, MAX_NUMBERS),
        ("distinct names", len(names), MAX_NAMES),
    ):
        if amount > limit:
            findings.append(f"{measure}: {amount} > {limit}")
    if measures["reads_own_source"]:
        findings.append("reads its own source file")
    return {**measures, "findings": findings}
