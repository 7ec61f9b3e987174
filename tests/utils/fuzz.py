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


CONTROL = "a\x00\x01b"  # NUL (which Postgres refuses in text) and another control character


def control_character_answers(app: FastAPI, auth_headers: list[dict[str, str]]) -> list[str]:
    """Set each path and query parameter of every operation, one at a time, to a string holding control
    characters (other path parameters get ``1``) under each set of headers; return every answer that is not
    a 4xx. Random generation seldom draws a NUL, so this sweep does it on purpose."""
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    wrong: list[str] = []
    for result in schema.get_all_operations():
        operation = result.ok()
        plain = {p.name: "1" for p in operation.path_parameters}
        targets = [("path", p.name) for p in operation.path_parameters] + [("query", p.name) for p in operation.query]
        for where, name in targets:
            case = operation.Case(
                path_parameters={**plain, name: CONTROL} if where == "path" else plain,
                query={name: CONTROL} if where == "query" else None,
            )
            for headers in auth_headers:
                status = case.call(headers=headers).status_code
                if not 400 <= status < 500:
                    wrong.append(f"{case.method} {operation.path} {where} {name} -> {status}")
    return wrong
