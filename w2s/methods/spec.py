"""A method as built-ins and their hyper-parameters, rendered to a method module of a few lines.

A ``MethodSpec`` is a chain of ``Step``s: every step but the last relabels the transfer items (its
built-in's ``relabel``), the last trains the student on those labels (its built-in's ``run``). The
rendered module imports the built-ins and passes the parameters; it runs wherever ``w2s`` is importable,
the scorer's jail included. For example ``consistency(k=15)`` then ``confident(keep=0.5)``::

    from w2s.methods.builtin import confident, consistency


    def run(ctx):
        labels = consistency.relabel(ctx, ctx.weak_labels, consistency.Params(k=15))
        return confident.run(ctx, confident.Params(keep=0.5), labels=labels)
"""

from __future__ import annotations

import importlib
from types import ModuleType

from pydantic import BaseModel, ConfigDict, Field, model_validator

from w2s.methods.loader import BUILTIN_METHODS
from w2s.methods.params import Bound, space


def builtin_module(name: str) -> ModuleType:
    """The module of the built-in method ``name``."""
    if name not in BUILTIN_METHODS:
        raise ValueError(f"unknown built-in method {name!r}; built-ins: {', '.join(BUILTIN_METHODS)}")
    return importlib.import_module(f"w2s.methods.builtin.{name}")


def parameters(name: str, entry: str = "run") -> list[Bound]:
    """The hyper-parameters of a built-in (its ``Params``: type, default, bounds), checking it has ``entry``."""
    module = builtin_module(name)
    if not callable(getattr(module, entry, None)):
        raise ValueError(f"the built-in {name!r} has no {entry}()")
    return space(module.Params)


class Step(BaseModel):
    """One built-in and the parameters it gets (the others keep the built-in's defaults)."""

    model_config = ConfigDict(frozen=True)

    method: str
    params: dict[str, float] = Field(default_factory=dict)

    def call(self, entry: str, labels: str | None) -> str:
        """Source of the call of this step's ``entry`` (``run`` or ``relabel``) on ``labels``."""
        kinds = {b.name: b.kind for b in parameters(self.method, entry)}
        values = ", ".join(f"{key}={_literal(value, kinds[key])}" for key, value in self.params.items())
        params = f"{self.method}.Params({values})"
        if entry == "relabel":
            return f"{self.method}.relabel(ctx, {labels or 'ctx.weak_labels'}, {params})"
        return f"{self.method}.run(ctx, {params}" + (f", labels={labels})" if labels else ")")


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
            bounds = parameters(step.method, "run" if i == len(self.steps) - 1 else "relabel")
            unknown = set(step.params) - {b.name for b in bounds}
            if unknown:
                takes = ", ".join(b.name for b in bounds) or "no parameters"
                raise ValueError(f"{step.method} takes no {', '.join(sorted(unknown))}; it takes {takes}")
            kinds = {b.name: b.kind for b in bounds}
            module = builtin_module(step.method)
            module.Params(**{k: _value(v, kinds[k]) for k, v in step.params.items()})  # types and bounds
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


def _value(value: float, kind: type) -> float | int | bool:
    """A search value as its parameter's type (an int or bool parameter takes a whole number)."""
    if kind in (int, bool):
        if not float(value).is_integer():
            raise ValueError(f"{value!r} is not a whole number")
        return kind(int(value))
    return float(value)


def _literal(value: float, kind: type) -> str:
    return repr(_value(value, kind))
