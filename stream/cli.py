"""`tft-forecast`: run the service, replay real bars, send requests."""
import asyncio
import logging
import sys
from pathlib import Path

import orjson
import typer

from stream.settings import load_settings

cli = typer.Typer(add_completion=False, no_args_is_help=True, pretty_exceptions_enable=False,
                  help="Streaming multi-horizon price forecasts on Kafka.")


def _topics():
    from stream import topics  # imports the Faust app; only commands that talk to Kafka need it
    return topics


def _ensure_topics() -> None:
    from stream.admin import ensure_topics
    s = load_settings().stream
    asyncio.run(ensure_topics(s.bootstrap_servers, _topics().all_names(), s.partitions,
                              s.replication_factor))


@cli.command()
def worker(loglevel: str = typer.Option("info", help="debug, info, warning, error")) -> None:
    """Run the Faust worker with its HTTP server, in the foreground."""
    _ensure_topics()
    from stream.main import app
    sys.argv = ["tft-forecast", "worker", "--loglevel", loglevel]
    app.main()


@cli.command()
def up(data_dir: Path = typer.Option(None, help="market data folder; default $MARKET_DATA_DIR"),
       loglevel: str = "info") -> None:
    """What `make run` runs: topics, the latest bars from the data folder, then the worker."""
    settings = load_settings()
    data_dir = data_dir or settings.stream.data_dir
    _ensure_topics()
    seed(data_dir, settings.stream.window_bars)
    worker(loglevel)


def seed(data_dir: Path, bars_per_symbol: int) -> int:
    """Publish the newest `bars_per_symbol` bars of every symbol so forecasts can be served at once."""
    from features.data import load_panel
    from stream.publish import bars_from_panel, publish_bars
    panel = load_panel(data_dir)
    latest = panel.groupby("symbol", group_keys=False).tail(bars_per_symbol)
    typer.echo(f"seeding {len(latest)} bars of {latest['symbol'].nunique()} symbols "
               f"up to {latest['date'].max().date()}")
    s = load_settings().stream
    return asyncio.run(publish_bars(s.bootstrap_servers, _topics().full_name("market.ticks"),
                                    bars_from_panel(latest), rate=0))


@cli.command()
def replay(data_dir: Path = typer.Option(..., help="market data folder"),
           symbols: str = typer.Option("SPY", help="comma-separated symbols"),
           start: str = typer.Option(..., help="first date, YYYY-MM-DD"),
           end: str = typer.Option(None, help="last date, YYYY-MM-DD"),
           rate: float = typer.Option(0.0, help="bars per second; 0 = as fast as possible")) -> None:
    """Publish real daily bars from the data folder to market.ticks, in time order."""
    from features.data import load_panel
    from stream.publish import bars_from_panel, publish_bars
    bars = bars_from_panel(load_panel(data_dir, symbols.split(","), start, end))
    s = load_settings().stream
    sent = asyncio.run(publish_bars(s.bootstrap_servers, _topics().full_name("market.ticks"),
                                    bars, rate))
    typer.echo(f"published {sent} bars")


@cli.command()
def request(symbol: str = typer.Option("SPY"), horizons: str = "1,5,10,21",
            intervals: str = "0.68,0.95", user_id: str = "cli",
            timeout: float = 30.0) -> None:
    """Send one forecast request over Kafka and print its result."""
    from schemas import ForecastRequest
    from stream.publish import request_forecast
    req = ForecastRequest(symbol=symbol, user_id=user_id,
                          forecast_horizons=[int(h) for h in horizons.split(",")],
                          confidence_intervals=[float(c) for c in intervals.split(",")])
    t = _topics()
    result = asyncio.run(request_forecast(load_settings().stream.bootstrap_servers,
                                          t.full_name("forecast.requests"),
                                          t.full_name("forecast.results"), req, timeout))
    typer.echo(orjson.dumps(result, option=orjson.OPT_INDENT_2).decode())


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    cli()
