"""Built-in W2S methods, one module each, all following the contract in ``w2s.methods``.

Each module declares its hyper-parameters as a frozen ``Params`` dataclass (typed fields with a default and
inclusive bounds, ``w2s.methods.params``) and has ``run(ctx, params=None, labels=None)``, where ``labels``
are the soft labels to learn from (default: the weak teacher's); a module that transforms labels also has
``relabel(ctx, labels, params=None)``. A ``w2s.methods.spec.MethodSpec`` chains them into a method module
of a few lines.
"""
