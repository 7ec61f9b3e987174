from fastapi import APIRouter
from sqlalchemy import text

from services.forum.api.deps import SessionDep

router = APIRouter(tags=["ops"])


@router.get("/healthz")
def healthz(session: SessionDep) -> dict[str, str]:
    """Liveness and database reachability."""
    session.execute(text("SELECT 1"))
    return {"status": "ok"}
