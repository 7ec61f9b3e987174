"""Hyper-parameters of built-in methods: typed dataclass fields with a default and inclusive bounds.

A method declares ``@dataclass(frozen=True) class Params(HyperParams)`` with ``hyper(default, low, high)``
fields and takes ``run(ctx, params=None)``. A search reads the space with ``space(Params)`` and builds a
configuration with ``Params(**values)``, which rejects out-of-bounds values.
"""

from __future__ import annotations

from dataclasses import MISSING, dataclass, field, fields, is_dataclass
from typing import TypeVar

Num = TypeVar("Num", int, float)


def hyper(default: Num, low: Num, high: Num, doc: str = "") -> Num:
    """A dataclass field with a default and inclusive bounds ``[low, high]``."""
    if not low <= default <= high:
        raise ValueError(f"default {default} outside [{low}, {high}]")
    return field(default=default, metadata={"low": low, "high": high, "doc": doc})


@dataclass(frozen=True)
class Bound:
    """One hyper-parameter of a method: its name, type, default and inclusive bounds."""

    name: str
    kind: type
    default: float
    low: float
    high: float
    doc: str


class HyperParams:
    """Base of a method's hyper-parameter dataclass: checks types and bounds when constructed."""

    def __post_init__(self) -> None:
        for bound in space(type(self)):
            value = getattr(self, bound.name)
            if bound.kind is bool:
                ok = isinstance(value, bool)
            elif bound.kind is int:
                ok = isinstance(value, int) and not isinstance(value, bool)
            else:
                ok = isinstance(value, int | float) and not isinstance(value, bool)
            if not ok:
                raise ValueError(f"{bound.name} must be {bound.kind.__name__}, not {value!r}")
            if not bound.low <= value <= bound.high:
                raise ValueError(f"{bound.name}={value} outside [{bound.low}, {bound.high}]")


KINDS: dict[str, type] = {"bool": bool, "int": int, "float": float}


def space(params_type: type[HyperParams]) -> list[Bound]:
    """The search space of a ``HyperParams`` dataclass (bool fields span ``[False, True]``)."""
    if not is_dataclass(params_type):
        raise TypeError(f"{params_type.__name__} is not a dataclass")
    found = []
    for f in fields(params_type):
        kind = f.type if isinstance(f.type, type) else KINDS.get(str(f.type))
        if kind not in (bool, int, float) or f.default is MISSING:
            raise TypeError(f"{params_type.__name__}.{f.name}: hyper-parameters are bool, int or float with a default")
        low, high = (False, True) if kind is bool else (f.metadata["low"], f.metadata["high"])
        found.append(Bound(f.name, kind, f.default, low, high, f.metadata.get("doc", "")))
    return found
