from fastapi import APIRouter

router = APIRouter(tags=["ops"])


@router.get("/healthz")
def healthz() -> dict[str, str]:
    """Liveness (the scorer and forum have their own health checks)."""
    return {"status": "ok"}
