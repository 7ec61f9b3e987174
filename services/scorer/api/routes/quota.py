from fastapi import APIRouter

from services.scorer.api.deps import AgentDep, SessionDep, SettingsDep
from services.scorer.contract import Quota
from services.scorer.db import crud

router = APIRouter(prefix="/v1/quota", tags=["quota"])


@router.get("", response_model=Quota)
def read_quota(caller: AgentDep, session: SessionDep, settings: SettingsDep) -> Quota:
    """What the calling agent has left today."""
    usage = crud.quota_usage(session=session, agent_id=caller.required_agent_id)
    return Quota(
        agent=caller.name,
        submissions_per_day=settings.submissions_per_day,
        submissions_used=usage.submissions,
        submissions_left=max(0, settings.submissions_per_day - usage.submissions),
        gpu_seconds_per_day=settings.gpu_seconds_per_day,
        gpu_seconds_used=usage.gpu_seconds,
        gpu_seconds_left=max(0.0, settings.gpu_seconds_per_day - usage.gpu_seconds),
        resets_at=crud.next_reset(),
    )
