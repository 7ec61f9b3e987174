"""Weak-to-strong (W2S) engine: tasks, models, training, baselines, methods and PGR.

The engine is the domain core shared by the scorer worker, the researchers' sandboxes and the CLI.
It imports no web framework, database or queue.
"""

ENGINE_VERSION = "0.2.0"
