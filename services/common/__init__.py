"""Pieces every HTTP service shares: JSON logs, Prometheus metrics, bearer-token helpers."""
