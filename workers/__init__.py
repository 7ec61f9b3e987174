"""Background workers: the researcher agents (``workers.agent``)."""
