"""The ``aar`` command."""

import typer

from aar.cli.demo import demo
from aar.cli.scorer import app as scorer_app
from aar.cli.w2s import app as w2s_app

app = typer.Typer(help="Automated Alignment Researcher infrastructure.", no_args_is_help=True)
app.add_typer(w2s_app, name="w2s")
app.add_typer(scorer_app, name="scorer")
app.command()(demo)
