"""Typed httpx client for the scorer, sharing the server's contract models."""

from __future__ import annotations

import time

import httpx

from services.scorer.contract import (
    FINAL_STATUSES,
    Accepted,
    AuditList,
    Leaderboard,
    Quota,
    SubmissionAdmin,
    SubmissionList,
    SubmissionPublic,
    TaskInputs,
    TaskPublic,
    TokenIssued,
)


class ScorerError(Exception):
    """A 4xx/5xx answer: ``status`` and the server's ``detail``."""

    def __init__(self, status: int, detail: str):
        super().__init__(f"{status}: {detail}")
        self.status, self.detail = status, detail


class ScorerClient:
    """One caller's view of the scorer (``token`` is an agent token or the admin token)."""

    def __init__(self, base_url: str, token: str, timeout: float = 30.0, transport: httpx.BaseTransport | None = None):
        self._http = httpx.Client(
            base_url=base_url.rstrip("/"),
            timeout=timeout,
            transport=transport,
            headers={"Authorization": f"Bearer {token}"},
        )

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> ScorerClient:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def _call(self, method: str, path: str, **kwargs) -> dict | list:
        response = self._http.request(method, path, **kwargs)
        if response.status_code >= 400:
            try:
                detail = response.json().get("detail", response.text)
            except ValueError:
                detail = response.text
            raise ScorerError(response.status_code, str(detail))
        return response.json()

    def submit_predictions(
        self, task: str, predictions: dict[str, float], idempotency_key: str | None = None
    ) -> Accepted:
        body = {"task": task, "kind": "predictions", "predictions": predictions}
        return Accepted(**self._call("POST", "/v1/submissions", json=body, headers=_idem(idempotency_key)))

    def submit_method(self, task: str, source: str, idempotency_key: str | None = None) -> Accepted:
        body = {"task": task, "kind": "method", "source": source}
        return Accepted(**self._call("POST", "/v1/submissions", json=body, headers=_idem(idempotency_key)))

    def submission(self, submission_id: str) -> SubmissionPublic | SubmissionAdmin:
        data = self._call("GET", f"/v1/submissions/{submission_id}")
        return SubmissionAdmin(**data) if "full_result" in data else SubmissionPublic(**data)

    def submissions(self, task: str | None = None) -> SubmissionList:
        return SubmissionList(**self._call("GET", "/v1/submissions", params={"task": task} if task else None))

    def wait(self, submission_id: str, timeout: float = 600.0, poll: float = 0.5) -> SubmissionPublic:
        """Poll until the submission reaches a final status (``TimeoutError`` otherwise)."""
        deadline = time.monotonic() + timeout
        while True:
            sub = self.submission(submission_id)
            if sub.status in FINAL_STATUSES:
                return sub
            if time.monotonic() > deadline:
                raise TimeoutError(f"submission {submission_id} still {sub.status} after {timeout:.0f} s")
            time.sleep(poll)

    def tasks(self) -> list[TaskPublic]:
        return [TaskPublic(**t) for t in self._call("GET", "/v1/tasks")]

    def task_inputs(self, task: str) -> TaskInputs:
        return TaskInputs(**self._call("GET", f"/v1/tasks/{task}/inputs"))

    def leaderboard(self, task: str) -> Leaderboard:
        return Leaderboard(**self._call("GET", "/v1/leaderboard", params={"task": task}))

    def quota(self) -> Quota:
        return Quota(**self._call("GET", "/v1/quota"))

    # admin
    def issue_token(self, agent: str) -> TokenIssued:
        return TokenIssued(**self._call("POST", "/v1/admin/tokens", json={"agent": agent}))

    def revoke_token(self, agent: str) -> None:
        self._call("DELETE", f"/v1/admin/tokens/{agent}")

    def cancel(self, submission_id: str) -> None:
        self._call("POST", f"/v1/admin/submissions/{submission_id}/cancel")

    def audit(self, submission_id: str | None = None, event: str | None = None) -> AuditList:
        params = {k: v for k, v in {"submission_id": submission_id, "event": event}.items() if v}
        return AuditList(**self._call("GET", "/v1/admin/audit", params=params))

    def finalise(self, task: str) -> None:
        self._call("POST", f"/v1/admin/tasks/{task}/finalise")


def _idem(key: str | None) -> dict[str, str]:
    return {"Idempotency-Key": key} if key else {}
