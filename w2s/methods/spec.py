"""A method as built-ins and their hyper-parameters, rendered to a method module of a few lines.

A ``MethodSpec`` is a chain of ``Step``s: every step but the last relabels the transfer items (its
built-in's ``relabel``), the last trains the student on those labels (its built-in's ``run``). The
rendered module imports the built-ins and passes the parameters; it runs wherever ``w2s`` is importable,
the scorer's jail included. For example ``consistency(k=15)`` then ``confident(keep=0.5)``::

    from w2s.methods.builtin import confident, consistency


    def run(ctx):
        labels = consistency.relabel(ctx, ctx.weak_labels, k=15)
        return confident.run(ctx, labels=labels, keep=0.5)
"""

from __future__ import annotations

import importlib
import inspect
from types import ModuleType

from pydantic import BaseModel, ConfigDict, Field, model_validator

from w2s.methods.loader import BUILTIN_METHODS


def builtin_module(name: str) -> ModuleType:
    """The module of the built-in method ``name``."""
    if name not in BUILTIN_METHODS:
        raise ValueError(f"unknown built-in method {name!r}; built-ins: {', '.join(BUILTIN_METHODS)}")
    return importlib.import_module(f"w2s.methods.builtin.{name}")


def parameters(name: str, entry: str = "run") -> dict[str, object]:
    """The hyper-parameters of a built-in's ``run`` (or ``relabel``) with their defaults."""
    function = getattr(builtin_module(name), entry, None)
    if function is None:
        raise ValueError(f"the built-in {name!r} has no {entry}()")
    skip = {"ctx", "labels"}
    return {p.name: p.default for p in inspect.signature(function).parameters.values() if p.name not in skip}


class Step(BaseModel):
    """One built-in and the parameters it gets (the others keep the built-in's defaults)."""

    model_config = ConfigDict(frozen=True)

    method: str
    params: dict[str, float] = Field(default_factory=dict)

    def call(self, entry: str, labels: str | None) -> str:
        """Source of the call of this step's ``entry`` (``run`` or ``relabel``) on ``labels``."""
        args = ["ctx"] + ([] if labels is None else [labels if entry == "relabel" else f"labels={labels}"])
        args += [f"{key}={_number(value)}" for key, value in self.params.items()]
        return f"{self.method}.{entry}({', '.join(args)})"


class MethodSpec(BaseModel):
    """Built-ins chained into one method: relabelling steps, then the step that trains the student."""

    model_config = ConfigDict(frozen=True)

    steps: tuple[Step, ...] = Field(min_length=1)

    @classmethod
    def of(cls, *steps: tuple[str, dict[str, float]]) -> MethodSpec:
        """A spec from ``(method, params)`` pairs, e.g. ``MethodSpec.of(("confident", {"keep": 0.3}))``."""
        return cls(steps=tuple(Step(method=m, params=p) for m, p in steps))

    @model_validator(mode="after")
    def _known(self) -> MethodSpec:
        for i, step in enumerate(self.steps):
            known = parameters(step.method, "run" if i == len(self.steps) - 1 else "relabel")
            unknown = set(step.params) - set(known)
            if unknown:
                takes = ", ".join(known) or "no parameters"
                raise ValueError(f"{step.method} takes no {', '.join(sorted(unknown))}; it takes {takes}")
        return self

    @property
    def slug(self) -> str:
        """A short name, e.g. ``consistency-confident-k15-keep0.5`` (methods, then the parameters set)."""
        params = [f"{k}{v:g}" for step in self.steps for k, v in step.params.items()]
        return "-".join([*(step.method for step in self.steps), *params])

    def render(self, doc: str | None = None) -> str:
        """The method module's source: imports of the built-ins and one ``run(ctx)`` that chains them."""
        *relabels, train = self.steps
        names = sorted({step.method for step in self.steps})
        lines = [f'"""{doc or self.slug}"""', "", f"from w2s.methods.builtin import {', '.join(names)}", "", ""]
        lines.append("def run(ctx):")
        labels = None
        for step in relabels:
            lines.append(f"    labels = {step.call('relabel', labels or 'ctx.weak_labels')}")
            labels = "labels"
        lines.append(f"    return {train.call('run', labels)}")
        return "\n".join(lines) + "\n"


def _number(value: float) -> str:
    return repr(int(value)) if value.is_integer() else repr(value)
