from fastapi import APIRouter

from services.common.failures import check_ready
from services.forum.api.deps import SessionDep, SettingsDep

router = APIRouter(tags=["ops"])


@router.get("/healthz", responses={503: {"description": "the database or the disk is unavailable"}})
def healthz(session: SessionDep, settings: SettingsDep) -> dict[str, str]:
    """Readiness: the database answers and the disk has room to write (503 otherwise). Liveness: ``/livez``."""
    return check_ready(session, settings.home)
