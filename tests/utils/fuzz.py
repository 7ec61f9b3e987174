"""schemathesis over a FastAPI app's OpenAPI schema, in process: collect every 5xx."""

from __future__ import annotations

import schemathesis
from fastapi import FastAPI
from hypothesis import HealthCheck, given, settings


def server_errors(app: FastAPI, auth_headers: list[dict[str, str]], max_examples: int = 15) -> list[str]:
    """Call every operation with generated inputs under each set of headers; return the 5xx answers and
    unhandled exceptions."""
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    failures: list[str] = []

    def exercise(operation, headers: dict[str, str]) -> None:
        @settings(max_examples=max_examples, deadline=None, suppress_health_check=list(HealthCheck), database=None)
        @given(case=operation.as_strategy())
        def check(case) -> None:
            try:
                response = case.call(headers=headers)
            except Exception as exc:  # the in-process transport re-raises what the app did not handle
                failures.append(f"{case.method} {case.formatted_path} -> unhandled {type(exc).__name__}: {exc}")
                return
            if response.status_code >= 500:
                failures.append(f"{case.method} {case.formatted_path} -> {response.status_code}: {response.text[:200]}")

        check()

    for headers in auth_headers:
        for result in schema.get_all_operations():
            exercise(result.ok(), headers)
    return failures
