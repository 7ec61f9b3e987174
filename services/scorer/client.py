"""Typed httpx client for the scorer, sharing the server's contract models."""

from __future__ import annotations

import time
from collections.abc import Callable

from services.common.client import JsonClient, ServiceError
from services.scorer.contract import (
    FINAL_STATUSES,
    Accepted,
    AttackList,
    AuditList,
    Inspection,
    InspectionCreate,
    InspectionList,
    Leaderboard,
    Quota,
    Role,
    SubmissionAdmin,
    SubmissionList,
    SubmissionPublic,
    TaskInputs,
    TaskPublic,
    TokenIssued,
)


class ScorerError(ServiceError):
    """A 4xx/5xx answer from the scorer: ``status``, the server's ``detail`` and ``retry_after``."""


class ScorerClient(JsonClient):
    """One caller's view of the scorer (``token`` is an agent token or the admin token)."""

    error = ScorerError

    def submit_predictions(
        self, task: str, predictions: dict[str, float], idempotency_key: str | None = None
    ) -> Accepted:
        body = {"task": task, "kind": "predictions", "predictions": predictions}
        return Accepted(**self._call("POST", "/v1/submissions", json=body, headers=_idem(idempotency_key)))

    def submit_method(
        self, task: str, source: str, idempotency_key: str | None = None, description: str = ""
    ) -> Accepted:
        body = {"task": task, "kind": "method", "source": source, "description": description}
        return Accepted(**self._call("POST", "/v1/submissions", json=body, headers=_idem(idempotency_key)))

    def submission(self, submission_id: str) -> SubmissionPublic | SubmissionAdmin:
        data = self._call("GET", f"/v1/submissions/{submission_id}")
        return SubmissionAdmin(**data) if "full_result" in data else SubmissionPublic(**data)

    def submissions(self, task: str | None = None, agent: str | None = None, limit: int = 50) -> SubmissionList:
        """Newest first: the caller's own, or (admin) everyone's, optionally one ``agent``'s."""
        params = {k: v for k, v in {"task": task, "agent": agent, "limit": limit}.items() if v is not None}
        return SubmissionList(**self._call("GET", "/v1/submissions", params=params))

    def wait(
        self,
        submission_id: str,
        timeout: float = 600.0,
        poll: float = 0.5,
        on_progress: Callable[[SubmissionPublic], None] | None = None,
    ) -> SubmissionPublic:
        """Poll until the submission reaches a final status (``TimeoutError`` otherwise); ``on_progress``
        sees every poll (its ``progress``: queue position, run k of n)."""
        deadline = time.monotonic() + timeout
        while True:
            sub = self.submission(submission_id)
            if on_progress is not None:
                on_progress(sub)
            if sub.status in FINAL_STATUSES:
                return sub
            if time.monotonic() > deadline:
                raise TimeoutError(f"submission {submission_id} still {sub.status} after {timeout:.0f} s")
            time.sleep(poll)

    def tasks(self) -> list[TaskPublic]:
        return [TaskPublic(**t) for t in self._call("GET", "/v1/tasks")]

    def task_inputs(self, task: str, timeout: float = 600.0) -> TaskInputs:
        """The task's transfer items with weak labels and its test_public inputs; while the server is still
        preparing a cold task (503), waits as its ``Retry-After`` says, up to ``timeout`` seconds."""
        return TaskInputs(**self._call("GET", f"/v1/tasks/{task}/inputs", retry_for=timeout))

    def leaderboard(self, task: str) -> Leaderboard:
        return Leaderboard(**self._call("GET", "/v1/leaderboard", params={"task": task}))

    def quota(self) -> Quota:
        return Quota(**self._call("GET", "/v1/quota"))

    # admin
    def issue_token(self, agent: str, role: Role = "researcher") -> TokenIssued:
        return TokenIssued(**self._call("POST", "/v1/admin/tokens", json={"agent": agent, "role": role}))

    def revoke_token(self, agent: str) -> None:
        self._call("DELETE", f"/v1/admin/tokens/{agent}")

    def cancel(self, submission_id: str) -> None:
        self._call("POST", f"/v1/admin/submissions/{submission_id}/cancel")

    def audit(self, submission_id: str | None = None, event: str | None = None) -> AuditList:
        params = {k: v for k, v in {"submission_id": submission_id, "event": event}.items() if v}
        return AuditList(**self._call("GET", "/v1/admin/audit", params=params))

    def finalise(self, task: str) -> None:
        self._call("POST", f"/v1/admin/tasks/{task}/finalise")

    def attacks(self, agent: str | None = None, limit: int = 500) -> AttackList:
        """Hackers' submissions with the scorer's verdicts, newest first."""
        params = {"limit": limit, **({"agent": agent} if agent else {})}
        return AttackList(**self._call("GET", "/v1/admin/attacks", params=params))

    def record_inspection(self, agent: str, inspection: InspectionCreate) -> Inspection:
        return Inspection(**self._call("PUT", f"/v1/admin/inspections/{agent}", json=inspection.model_dump()))

    def inspections(self, agent: str | None = None) -> InspectionList:
        return InspectionList(**self._call("GET", "/v1/admin/inspections", params={"agent": agent} if agent else None))

    def clear_inspection(self, agent: str) -> Inspection:
        """Lift the hold a FAIL put on the agent's leaderboard entries (audited)."""
        return Inspection(**self._call("POST", f"/v1/admin/inspections/{agent}/clear"))


def _idem(key: str | None) -> dict[str, str]:
    return {"Idempotency-Key": key} if key else {}
