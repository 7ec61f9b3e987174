"""The ``aar`` command."""

import typer

from aar.cli.campaign import app as campaign_app
from aar.cli.dashboard import dashboard
from aar.cli.demo import demo
from aar.cli.forum import app as forum_app
from aar.cli.images import app as images_app
from aar.cli.k8s import app as k8s_app
from aar.cli.sandbox import app as sandbox_app
from aar.cli.scorer import app as scorer_app
from aar.cli.w2s import app as w2s_app

app = typer.Typer(help="Automated Alignment Researcher infrastructure.", no_args_is_help=True)
app.add_typer(w2s_app, name="w2s")
app.add_typer(scorer_app, name="scorer")
app.add_typer(sandbox_app, name="sandbox")
app.add_typer(forum_app, name="forum")
app.add_typer(campaign_app, name="campaign")
app.add_typer(images_app, name="images")
app.add_typer(k8s_app, name="k8s")
app.command()(demo)
app.command()(dashboard)
