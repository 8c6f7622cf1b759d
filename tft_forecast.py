"""`tft-forecast`: the one entry point, the ops commands (stream/cli.py: the service,
replays, requests, model versions) and the researcher's (research/cli.py) side by side."""
import logging

import typer

from research.cli import research
from stream.cli import ops

cli = typer.Typer(add_completion=False, no_args_is_help=True, pretty_exceptions_enable=False,
                  help="Streaming multi-horizon price forecasts on Kafka.")
cli.registered_commands += ops.registered_commands + research.registered_commands  # ops first, in --help
cli.callback()(research.registered_callback.callback)  # the research commands read the settings from ctx.obj


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    cli()


if __name__ == "__main__":
    main()
