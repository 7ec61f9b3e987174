"""Built-in W2S methods, one module each, all following the contract in ``w2s.methods``.

Each module's ``run(ctx, labels=None, **params)`` takes its hyper-parameters as keyword arguments (the
module constants are the defaults) and ``labels``, the soft labels to learn from (default: the weak
teacher's); a module that only transforms labels also has ``relabel(ctx, labels, **params)``. A
``w2s.methods.spec.MethodSpec`` chains them into a method module of a few lines.
"""
