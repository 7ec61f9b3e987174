"""Find a method by built-in name or file path, and check what it returns."""

from __future__ import annotations

import hashlib
import importlib
import importlib.util
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from w2s.errors import MethodError, UnknownMethodError
from w2s.methods.context import MethodContext

BUILTIN_METHODS = (
    "vanilla",
    "hard",
    "confident",
    "logconf",
    "bootstrap",
    "consistency",
    "gce",
    "sce",
    "entmin",
    "smallloss",
    "em",
)


@dataclass(frozen=True)
class LoadedMethod:
    """A method's display name, its source hash (part of the run folder's name) and its entry point."""

    name: str
    source_sha: str
    run: Callable[[MethodContext], object]


def load_method(name_or_path: str) -> LoadedMethod:
    """Load a built-in method by name, or a module from a ``.py`` file path.

    Raises ``UnknownMethodError`` for a name that is neither, ``MethodError`` if the module fails to
    import or has no callable ``run``.
    """
    path = Path(name_or_path).expanduser()
    if name_or_path in BUILTIN_METHODS:
        module_name = f"w2s.methods.builtin.{name_or_path}"
        file = Path(__file__).parent / "builtin" / f"{name_or_path}.py"
        display = name_or_path
    elif path.suffix == ".py" and path.is_file():
        file = path.resolve()
        module_name = f"w2s_user_method_{hashlib.sha256(str(file).encode()).hexdigest()[:12]}"
        display = str(path)
    else:
        raise UnknownMethodError(
            f"unknown method {name_or_path!r}: not a built-in ({', '.join(BUILTIN_METHODS)}) "
            "and not an existing .py file"
        )
    source = file.read_bytes()
    try:
        if module_name.startswith("w2s.methods.builtin."):
            module = importlib.import_module(module_name)
        else:
            spec = importlib.util.spec_from_file_location(module_name, file)
            if spec is None or spec.loader is None:
                raise ImportError(f"no module loader for {file}")
            module = importlib.util.module_from_spec(spec)
            sys.modules[module_name] = module  # what a normal import does (dataclasses look their module up)
            spec.loader.exec_module(module)
    except Exception as exc:  # any failure of user code is the method's fault
        raise MethodError(f"method {display!r} failed to import: {type(exc).__name__}: {exc}") from exc
    entry = getattr(module, "run", None)
    if not callable(entry):
        raise MethodError(f"method {display!r} has no callable `run(ctx)` entry point")
    return LoadedMethod(display, hashlib.sha256(source).hexdigest()[:12], entry)


def validate_predictions(method: str, output: object, n: int) -> np.ndarray:
    """Probabilities of class 1 for ``n`` targets, or ``MethodError`` naming what is wrong."""
    try:
        probs = np.asarray(output, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise MethodError(f"method {method!r} returned {type(output).__name__}, not a sequence of floats") from exc
    if probs.shape != (n,):
        raise MethodError(f"method {method!r} returned shape {probs.shape}; expected ({n},), one per target")
    if not np.all(np.isfinite(probs)):
        raise MethodError(f"method {method!r} returned {int(np.sum(~np.isfinite(probs)))} NaN or infinite values")
    if probs.min() < 0.0 or probs.max() > 1.0:
        raise MethodError(
            f"method {method!r} returned values outside [0, 1] (min {probs.min():.3g}, max {probs.max():.3g})"
        )
    return probs
