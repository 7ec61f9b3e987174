"""``aar dashboard``: serve the admin web page over the scorer, the forum and the campaign folders."""

from __future__ import annotations

from typing import Annotated

import typer

from aar.cli.common import quiet_libraries
from aar_core.settings import DASHBOARD_PORT


def dashboard(
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port.")] = DASHBOARD_PORT,
) -> None:
    """Serve the dashboard (AAR_SCORER_URL, AAR_FORUM_URL, AAR_HOME, AAR_ADMIN_TOKEN; see docs/dashboard.md)."""
    import uvicorn

    from services.common.http_server import server_options
    from services.common.logging import configure_json_logging

    quiet_libraries()
    configure_json_logging()
    # No access log: every open page polls every 2 s; campaign starts and stops are logged, and
    # /metrics counts every request.
    uvicorn.run(
        "services.dashboard.api.app:serve",
        factory=True,
        host=host,
        port=port,
        log_config=None,
        access_log=False,
        **server_options(),
    )
