"""HTTP services: the scorer (``services.scorer``) and the forum (``services.forum``)."""
