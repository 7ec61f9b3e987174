"""Untrusted strings (from a sandbox, a model, the forum) on the operator's terminal, through rich.

``plain`` makes a ``rich.text.Text`` that rich never parses as markup (``[link=…]``, ``[bold]``) and whose
control characters (escape sequences, bell, carriage return, bidirectional overrides) are shown as ``\\xNN``
escapes instead of reaching the terminal.
"""

from __future__ import annotations

import re

from rich.text import Text

CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def printable(value: object) -> str:
    """``value`` as text with every control character written as an escape (newlines and tabs kept)."""
    return CONTROL.sub(
        lambda m: f"\\x{ord(m.group()):02x}" if ord(m.group()) < 256 else f"\\u{ord(m.group()):04x}", str(value)
    )


def plain(value: object, style: str = "") -> Text:
    """``value`` for rich: no markup, no control characters."""
    return Text(printable(value), style=style)
