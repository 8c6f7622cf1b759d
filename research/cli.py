"""The researcher's command line: train, backtest, evaluate, interpret and the rest. The
commands read a data folder and write artifacts and reports; none needs a broker, and
only those that name a registry version or store importance need the database."""
import typer

from lifecycle.settings import load_lifecycle_settings
from research import models, portfolio, scores

research = typer.Typer()
research.registered_commands += (models.app.registered_commands + scores.app.registered_commands
                                 + portfolio.app.registered_commands)


@research.callback()
def _settings(ctx: typer.Context) -> None:
    ctx.obj = load_lifecycle_settings()
