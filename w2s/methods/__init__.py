"""The method contract.

A method is a Python module (a built-in name or a file path) with one entry point::

    def run(ctx: w2s.methods.MethodContext) -> Sequence[float]:
        ...  # return P(class 1) for every item of ctx.targets, in order

The context holds a student factory, training helpers, the transfer inputs with the weak teacher's
soft labels, and the target inputs to predict. It holds no ground-truth label of any split: not as
data, not through a reference to the task or dataset. The engine picks the seeds.
"""

from w2s.methods.context import MethodContext
from w2s.methods.loader import BUILTIN_METHODS, LoadedMethod, load_method, validate_predictions

__all__ = ["BUILTIN_METHODS", "LoadedMethod", "MethodContext", "load_method", "validate_predictions"]
