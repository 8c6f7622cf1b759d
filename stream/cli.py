"""The ops commands of `tft-forecast` (tft_forecast.py composes them with research/'s):
run the service, replay real bars, send requests, manage model versions."""
import asyncio
import os
import sys
from pathlib import Path

import orjson
import typer

from features.cross_asset import MARKET
from schemas import HORIZONS
from stream.settings import load_settings

ops = typer.Typer()


def _topics():
    from stream import topics  # imports the Faust app; only commands that talk to Kafka need it
    return topics


def _ensure_topics() -> None:
    from stream.admin import ensure_topics
    settings = load_settings()
    s = settings.stream
    from stream.tables import TABLES
    changelogs = [t.changelog_topic.get_topic_name() for t in TABLES]
    asyncio.run(ensure_topics(settings.kafka_client(), _topics().all_names(), s.partitions,
                              s.replication_factor, changelogs))


@ops.command()
def topics() -> None:
    """Create the service's topics that do not exist yet: KAFKA_PARTITIONS each, the tables'
    changelogs compacted (a deployment's topic job; the worker does it too at start)."""
    _ensure_topics()
    typer.echo("topics ready")


@ops.command()
def worker(loglevel: str = typer.Option("info", help="debug, info, warning, error")) -> None:
    """Run the Faust worker with its HTTP server, in the foreground."""
    _ensure_topics()
    load_settings().stream.state_dir.mkdir(parents=True, exist_ok=True)  # Faust makes one level only
    from stream.main import build
    rt = build()
    sys.argv = ["tft-forecast", "worker", "--loglevel", loglevel]
    rt.app.main()


@ops.command()
def up(data_dir: Path = typer.Option(None, help="market data folder; default $MARKET_DATA_DIR"),
       loglevel: str = "info") -> None:
    """What `make run` runs: topics, the latest bars from the data folder, then the worker."""
    settings = load_settings()
    data_dir = data_dir or settings.data_dir
    _ensure_topics()
    seed(data_dir, settings.stream.window_bars)
    if settings.inference.model != "baseline":
        from lifecycle.importance import ensure_recent
        if (stored := ensure_recent(settings, data_dir)) is not None:
            typer.echo("stored feature importance of {} since {} ({} rows)".format(*stored))
    # A fresh process: the worker does not carry the data frames that seeding read.
    os.execv(sys.executable, [sys.executable, "-m", "tft_forecast", "worker", "--loglevel", loglevel])


def seed(data_dir: Path, bars_per_symbol: int) -> int:
    """Publish the newest `bars_per_symbol` bars of every symbol so forecasts can be served at once."""
    from features.data import load
    from stream.publish import publish_bars, series_from_panel
    latest = load(data_dir).all_bars().groupby("symbol", group_keys=False).tail(bars_per_symbol)
    typer.echo(f"seeding {len(latest)} bars of {latest['symbol'].nunique()} symbols "
               f"up to {latest['date'].max().date()}")
    return asyncio.run(publish_bars(load_settings().kafka_client(), _topics().full_name("market.ticks"),
                                    series_from_panel(latest), rate=0))


@ops.command()
def replay(data_dir: Path = typer.Option(..., help="market data folder"),
           symbols: str = typer.Option(MARKET, help="comma-separated symbols"),
           start: str = typer.Option(..., help="first date, YYYY-MM-DD"),
           end: str = typer.Option(None, help="last date, YYYY-MM-DD"),
           rate: float = typer.Option(0.0, help="bars per second; 0 = as fast as possible")) -> None:
    """Publish real daily bars (traded symbols or context series such as VIX) to market.ticks."""
    from features.data import load, select
    from stream.publish import bars_from_panel, publish_bars
    bars = bars_from_panel(select(load(data_dir).all_bars(), symbols.split(","), start, end))
    sent = asyncio.run(publish_bars(load_settings().kafka_client(), _topics().full_name("market.ticks"),
                                    bars, rate))
    typer.echo(f"published {sent} bars")


@ops.command("publish-chains")
def publish_chains(data_dir: Path = typer.Option(..., help="market data folder"),
                   symbols: str = typer.Option(None, help="comma-separated underlyings; default all"),
                   latest: bool = typer.Option(True, help="only each underlying's last chain")) -> None:
    """Publish the data folder's option chains to options.quotes, where workers fit them."""
    from features.chains import chain_days
    from stream.publish import chain_event, publish_chains as publish
    days = chain_days(data_dir, symbols.split(",") if symbols else None)
    if latest:
        days = list({d.symbol: d for d in days}.values())
    sent = asyncio.run(publish(load_settings().kafka_client(), _topics().full_name("options.quotes"),
                               [chain_event(d) for d in days]))
    typer.echo(f"published {sent} chains: " + ", ".join(f"{d.symbol} {d.as_of}" for d in days))


@ops.command()
def request(symbol: str = typer.Option(MARKET), horizons: str = ",".join(map(str, HORIZONS)),
            intervals: str = "0.68,0.95", user_id: str = "cli",
            timeout: float = 30.0) -> None:
    """Send one forecast request over Kafka and print its result (exit status 1 for a refusal)."""
    from schemas import ForecastRequest
    from stream.client import ForecastClient, ForecastRefused
    settings = load_settings()
    req = ForecastRequest(symbol=symbol, user_id=user_id,
                          forecast_horizons=[int(h) for h in horizons.split(",")],
                          confidence_intervals=[float(c) for c in intervals.split(",")])

    async def ask():
        async with ForecastClient(settings.stream.bootstrap_servers, settings.stream.topic_prefix, settings.access,
                                  timeout_s=timeout, retries=0) as client:
            return await client.ask(req)
    try:
        result, refused = asyncio.run(ask()), False
    except ForecastRefused as e:
        result, refused = e.result, True
    typer.echo(orjson.dumps(result.model_dump(mode="json", exclude_none=True), option=orjson.OPT_INDENT_2).decode())
    if refused:
        raise typer.Exit(1)


@ops.command()
def register(path: Path = typer.Argument(..., help="a model artifact")) -> None:
    """Copy an artifact into the model store and record it in model_registry as a candidate."""
    from lifecycle.store import register as add
    settings = load_settings()
    art = asyncio.run(add(settings.persistence.database_url, path, settings.inference.model_store))
    typer.echo(f"registered {art.version} -> {settings.inference.model_store / (art.version + '.pt')}")


@ops.command()
def promote(version: str = typer.Argument(..., help="a registered version"),
            reason: str = typer.Option("", help="why, for the registry and the audit"),
            by: str = typer.Option("cli", help="who asks"),
            force: bool = typer.Option(False, help="skip the validation gate"),
            data_dir: Path = typer.Option(None, help="market data for the gate; default MARKET_DATA_DIR")) -> None:
    """Score a registered version against the active one on the latest sessions; make it
    active if it is no worse (the thresholds: GATE_*). Exit status 3 when it is refused."""
    from lifecycle.promotion import promote_checked
    record = asyncio.run(promote_checked(load_settings(), version, by=by, reason=reason or "promoted from the command line",
                                         source="cli", force=force, data_dir=data_dir))
    typer.echo(orjson.dumps(record, option=orjson.OPT_INDENT_2).decode())
    if not record["promoted"]:
        raise typer.Exit(3)


@ops.command()
def rollback(reason: str = typer.Option(..., help="why, for the registry and the audit"),
             by: str = typer.Option("cli", help="who asks")) -> None:
    """Make the version the active one replaced active again."""
    from lifecycle.store import rollback as run
    record = asyncio.run(run(load_settings().persistence.database_url, by, reason))
    typer.echo(orjson.dumps(record).decode())
