"""Errors the engine raises for bad input; each names the problem for the user."""


class W2SError(Exception):
    """Base class for engine errors that a user can fix."""


class UnknownTaskError(W2SError):
    """The task name is not registered."""


class UnknownMethodError(W2SError):
    """The method is neither a built-in name nor a readable Python file."""


class MethodError(W2SError):
    """A method raised, lacks its entry point, or returned invalid predictions."""
