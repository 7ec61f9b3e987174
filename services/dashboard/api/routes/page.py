"""The page itself: one self-contained HTML file with its script and style under ``/static`` (nothing is
fetched from elsewhere). It holds no data; everything comes from the admin-only ``/v1`` API."""

from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import FileResponse

STATIC = Path(__file__).resolve().parents[2] / "static"
router = APIRouter(tags=["page"])

# Agents write the forum posts and transcripts the page shows: the script renders them as text only, and the
# policy forbids inline scripts and every origin but this one.
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'none'; "
    "frame-ancestors 'none'; form-action 'self'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-cache",
}


@router.get("/", include_in_schema=False)
def index() -> FileResponse:
    return FileResponse(STATIC / "index.html", media_type="text/html", headers=SECURITY_HEADERS)
