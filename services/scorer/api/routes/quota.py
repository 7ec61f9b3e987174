from fastapi import APIRouter

from services.scorer import views
from services.scorer.api.deps import AgentDep, SessionDep, SettingsDep
from services.scorer.contract import Quota
from services.scorer.db import crud

router = APIRouter(prefix="/v1/quota", tags=["quota"])


@router.get("", response_model=Quota)
def read_quota(caller: AgentDep, session: SessionDep, settings: SettingsDep) -> Quota:
    """What the calling agent has left today."""
    usage = crud.quota_usage(session=session, agent_id=caller.required_agent_id)
    return views.quota(caller.name, usage, settings, crud.next_reset())
