"""`tft-forecast`: run the service, replay real bars, send requests."""
import asyncio
import logging
import os
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
    settings = load_settings()
    s = settings.stream
    from stream.tables import TABLES
    changelogs = [t.changelog_topic.get_topic_name() for t in TABLES]
    asyncio.run(ensure_topics(settings.kafka_client(), _topics().all_names(), s.partitions,
                              s.replication_factor, changelogs))


@cli.command()
def topics() -> None:
    """Create the service's topics that do not exist yet: KAFKA_PARTITIONS each, the tables'
    changelogs compacted (a deployment's topic job; the worker does it too at start)."""
    _ensure_topics()
    typer.echo("topics ready")


@cli.command()
def worker(loglevel: str = typer.Option("info", help="debug, info, warning, error")) -> None:
    """Run the Faust worker with its HTTP server, in the foreground."""
    _ensure_topics()
    load_settings().stream.state_dir.mkdir(parents=True, exist_ok=True)  # Faust makes one level only
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
    if settings.inference.model != "baseline":
        ensure_importance(data_dir, settings)
    # A fresh process: the worker does not carry the data frames that seeding read.
    os.execv(sys.executable, [sys.executable, "-m", "stream", "worker", "--loglevel", loglevel])


def ensure_importance(data_dir: Path, settings) -> None:
    """Feature importance of the served model over its last quarter, stored once per model."""
    import pandas as pd

    from features.data import load
    from stream.importance import interpret_recent, store, stored_rows
    art = _artifact(settings.inference.model)
    url = settings.persistence.database_url
    if asyncio.run(stored_rows(url, art.version)):
        return
    data = load(data_dir)
    start = (data.panel["date"].max() - pd.Timedelta(days=91)).date().isoformat()
    n = asyncio.run(store(url, art.version, interpret_recent(data, art, start)))
    typer.echo(f"stored feature importance of {art.version} since {start} ({n} rows)")


def seed(data_dir: Path, bars_per_symbol: int) -> int:
    """Publish the newest `bars_per_symbol` bars of every symbol so forecasts can be served at once."""
    from features.data import load
    from stream.publish import bars_from_panel, publish_bars
    latest = load(data_dir).all_bars().groupby("symbol", group_keys=False).tail(bars_per_symbol)
    typer.echo(f"seeding {len(latest)} bars of {latest['symbol'].nunique()} symbols "
               f"up to {latest['date'].max().date()}")
    return asyncio.run(publish_bars(load_settings().kafka_client(), _topics().full_name("market.ticks"),
                                    bars_from_panel(latest), rate=0))


@cli.command()
def replay(data_dir: Path = typer.Option(..., help="market data folder"),
           symbols: str = typer.Option("SPY", help="comma-separated symbols"),
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


@cli.command("publish-chains")
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
    result = asyncio.run(request_forecast(load_settings().kafka_client(),
                                          t.full_name("forecast.requests"),
                                          t.full_name("forecast.results"), req, timeout))
    typer.echo(orjson.dumps(result, option=orjson.OPT_INDENT_2).decode())


@cli.command()
def train(data_dir: Path = typer.Option(..., help="market data folder"),
          end: str = typer.Option(None, help="last day of data the model may see, YYYY-MM-DD (or in --config)"),
          out: Path = typer.Option(..., help="artifact file to write"),
          full: bool = typer.Option(False, help="the paper-sized model (for a GPU)"),
          epochs: int = typer.Option(None, help="override the number of epochs"),
          device: str = typer.Option(None, help="cpu, cuda[:N] or auto (default TFT_DEVICE)"),
          config: Path = typer.Option(None, help="YAML with model_config and training_config (tft/config_file.py)")) -> None:
    """Train a TFT on data up to --end, with a walk-forward validation year before it.
    Under torchrun, on as many processes as it starts (tft/distributed.py)."""
    from dataclasses import replace

    from features.data import load
    from inference.models import regime_path
    from tft.config_file import read
    from tft.train import TrainConfig, train as fit
    settings = load_settings()
    model_keys, train_keys = read(config) if config else ({}, {})
    model_config = replace(settings.tft.full() if full else settings.tft, **model_keys)
    train_keys = {"device": device or settings.inference.device, "batch_size": settings.retrain.batch_size,
                  **train_keys, **({"epochs": epochs} if epochs else {}), **({"end": end} if end else {})}
    if "end" not in train_keys:
        raise typer.BadParameter("--end, or training_config.end in --config, is required")
    config = TrainConfig(**train_keys)
    end = config.end
    data = load(data_dir)
    art = fit(data, out, model_config, config)
    typer.echo(f"wrote {out} ({art.version}); best validation loss "
               f"{art.meta['metrics']['best_validation_loss']:.5f} in {art.meta['train_seconds']} s")
    fit_regime(data, end, regime_path(out))


def fit_regime(data, end: str, out: Path) -> None:
    """The regime book (a model per asset class, every symbol's scale) on the data up to
    `end`, saved beside the model it serves with."""
    from features.cross_asset import Context
    from regime.book import fit_book
    book = fit_book(data.panel, Context.from_bars(data.context), end, load_settings().regime)
    out.write_bytes(orjson.dumps(book.to_dict(), option=orjson.OPT_INDENT_2))
    typer.echo(f"wrote {out}: " + ", ".join(f"{cls} {len(m.labels)} states {m.labels}"
                                            for cls, m in book.models.items()))


@cli.command("fit-regimes")
def fit_regimes(data_dir: Path = typer.Option(..., help="market data folder"),
                end: str = typer.Option(..., help="last day the regime models may see, YYYY-MM-DD"),
                model: str = typer.Option("default", help="the model artifact whose regime book to write")) -> None:
    """Fit the regime book of a model artifact again (states chosen by BIC per asset class)."""
    from features.data import load
    from inference.models import regime_path
    fit_regime(load(data_dir), end, regime_path(_artifact_path(model)))


@cli.command()
def regimes(data_dir: Path = typer.Option(..., help="market data folder"),
            symbol: str = typer.Option("SPY"),
            model: str = typer.Option("default", help="whose regime book"),
            start: str = typer.Option("1993-01-01"), end: str = typer.Option(None),
            out: Path = typer.Option(..., help="folder for <symbol>_regimes.csv and .png")) -> None:
    """A symbol's filtered regime on every day of the data, as a table and a plot."""
    from features.cross_asset import Context
    from features.data import load
    from inference.models import regime_path
    import pandas as pd

    from regime.book import RegimeBook
    from regime.plot import plot_path
    data = load(data_dir)
    book = RegimeBook.from_dict(orjson.loads(regime_path(_artifact_path(model)).read_bytes()))
    bars = data.panel[data.panel["symbol"] == symbol].sort_values("date")
    path = book.path(symbol, bars["date"].values.astype("datetime64[D]"), bars["close"].values.astype(float),
                     Context.from_bars(data.context))
    path = path[(path["date"] >= pd.Timestamp(start)) & (path["date"] <= pd.Timestamp(end or path["date"].max()))]
    out.mkdir(parents=True, exist_ok=True)
    path.to_csv(out / f"{symbol}_regimes.csv", index=False, float_format="%.4f")
    png = plot_path(bars, path, symbol, out / f"{symbol}_regimes.png")
    shares = path["regime"].value_counts(normalize=True)
    typer.echo(f"wrote {out / f'{symbol}_regimes.csv'} and {png}: " +
               ", ".join(f"{k} {v:.0%}" for k, v in shares.items()))


@cli.command()
def backtest(data_dir: Path = typer.Option(..., help="market data folder"),
             model: str = typer.Option("default", help="'default', an artifact path or a registry version"),
             start: str = typer.Option(..., help="first origin, YYYY-MM-DD"),
             end: str = typer.Option(None, help="last origin; default: the data's end"),
             symbols: str = typer.Option(None, help="comma-separated; default: the whole panel"),
             out: Path = typer.Option(..., help="CSV to write"),
             retrain_every: int = typer.Option(0, help="retrain every N sessions, as the service does; 0: never"),
             retrain: str = typer.Option("incremental", help="incremental or full (RETRAIN_* settings)"),
             no_gate: bool = typer.Option(False, help="serve every retrained model, passing the gate (GATE_*) or not"),
             work_dir: Path = typer.Option(None, help="a retraining walk's segments and models, for resuming; "
                                                      "default: OUT's name + .walk")) -> None:
    """Forecast every (symbol, day) from data up to that day; one CSV row per horizon.
    With --retrain-every, the model is retrained walk-forward (tft/walk_forward.py) and
    an interrupted run resumes where it stopped."""
    from features.data import load
    from tft.backtest import backtest as run
    from tft.walk_forward import Walk, walk
    art = _artifact(model)
    data, picked = load(data_dir), symbols.split(",") if symbols else None
    if retrain_every:
        settings = load_settings()
        plan = Walk(retrain_every, retrain, settings.retrain, None if no_gate else settings.gate,
                    (("device", settings.inference.device),))
        df = walk(data, art, start, end, picked, plan, work_dir or out.with_name(out.name + ".walk"))
    else:
        df = run(data, art, start, end, picked)
    out.parent.mkdir(parents=True, exist_ok=True)
    df.to_csv(out, index=False, float_format="%.6g")
    made_by = f"{df['model'].nunique()} models from {art.version}" if "model" in df else art.version
    typer.echo(f"wrote {len(df):,} rows for {df['symbol'].nunique()} symbols to {out} ({made_by})")


@cli.command()
def evaluate(backtest_csv: Path = typer.Argument(..., help="a file written by `backtest`"),
             data_dir: Path = typer.Option(..., help="market data folder, for outcomes and baselines"),
             out: Path = typer.Option(Path("reports/evaluation"), help="folder for report.md and plots"),
             model: str = typer.Option("default", help="whose regime book splits the rows by regime"),
             fan_symbol: str = "SPY") -> None:
    """Score a backtest beside the naive baselines, by horizon, symbol and regime (VIX band,
    the symbol's HMM regime, the market's); writes a markdown report with plots."""
    import pandas as pd

    from features.cross_asset import MARKET, Context
    from features.data import load
    from inference.models import regime_path
    from regime.book import RegimeBook, panel_paths
    from tft.evaluate import attach_outcomes
    from tft.evaluate import evaluate as by
    from tft.report import HEADLINE, write_report
    data = load(data_dir)
    df = attach_outcomes(pd.read_csv(backtest_csv, parse_dates=["date"]), data.panel,
                         data.context[data.context["symbol"] == "VIX"])
    if (book_file := regime_path(_artifact_path(model))).is_file():
        paths = panel_paths(RegimeBook.from_dict(orjson.loads(book_file.read_bytes())), data.panel,
                            Context.from_bars(data.context)).assign(date=lambda p: pd.to_datetime(p["date"]))
        market = paths[paths["symbol"] == MARKET][["date", "regime"]].rename(columns={"regime": "market_regime"})
        df = (df.merge(paths.rename(columns={"regime": "symbol_regime"}), on=["symbol", "date"], how="left")
                .merge(market, on="date", how="left"))
    path = write_report(df, out, f"Evaluation of {backtest_csv.name}", fan_symbol)
    with pd.option_context("display.width", 250, "display.float_format", "{:.5g}".format):
        typer.echo(by(df, "horizon")[HEADLINE].to_string(index=False))
    typer.echo(f"report: {path}")


@cli.command("data-quality")
def data_quality(data_dir: Path = typer.Option(..., help="market data folder"),
                 out: Path = typer.Option(Path("reports/data-quality.csv"), help="the report, one row per series")) -> None:
    """Per series: missing sessions, stale values, outliers, late listings
    (features/data_quality.py); the same checks count live bars in /metrics."""
    import pandas as pd

    from features.data import load
    from features.data_quality import report
    data = load(data_dir)
    r = pd.concat([report(data.panel).assign(kind="traded"), report(data.context).assign(kind="context")])
    out.parent.mkdir(parents=True, exist_ok=True)
    r.to_csv(out, index=False)
    with pd.option_context("display.width", 250, "display.max_rows", 200, "display.max_colwidth", 60):
        typer.echo(r.to_string(index=False))
    typer.echo(f"{len(r)} series: {r['missing_sessions'].sum()} missing sessions, {r['stale'].sum()} stale bars, "
               f"{r['outliers'].sum()} outliers, {r['late_listing'].sum()} late listings; written to {out}")


@cli.command()
def skill(backtest_csv: Path = typer.Argument(..., help="a file written by `backtest`"),
          data_dir: Path = typer.Option(..., help="market data folder, for outcomes"),
          out: Path = typer.Option(Path("reports/skill"), help="folder for the table and the reliability plot")) -> None:
    """Skill or luck: directional accuracy beside always up, Brier beside the base rate
    (the rows' own, and the one known on each day), the sign strategy's Sharpe beside
    buy-and-hold, each with a block-bootstrap interval."""
    import pandas as pd

    from features.data import load
    from tft.evaluate import attach_outcomes
    from tft.skill import plot_reliability, skill as by_horizon, with_known_rate
    panel = load(data_dir).panel
    df = with_known_rate(attach_outcomes(pd.read_csv(backtest_csv, parse_dates=["date"]), panel), panel)
    out.mkdir(parents=True, exist_ok=True)
    table = by_horizon(df)
    table.to_csv(out / "skill.csv", index=False)
    plot_reliability(df, out / "reliability.png")
    with pd.option_context("display.width", 300, "display.max_columns", 30, "display.float_format", "{:.4f}".format):
        typer.echo(table.to_string(index=False))
    typer.echo(f"written to {out}")


@cli.command("adapt-intervals")
def adapt_intervals(backtest_csv: Path = typer.Argument(..., help="a file written by `backtest`"),
                    data_dir: Path = typer.Option(..., help="market data folder, for outcomes and baselines"),
                    gamma: float = typer.Option(None, help="step of the online rule; default inference.conformal.GAMMA"),
                    out: Path = typer.Option(Path("reports/intervals"), help="folder for the table, CSV and plot")) -> None:
    """Walk a backtest forward with adaptive intervals (inference/conformal.py): coverage
    raw, adapted and the random walk's, widths and pinball loss, by horizon (CSV, plot)."""
    import pandas as pd

    from features.data import load
    from inference.adaptive import adapt, plot_coverage, scores
    from inference.conformal import GAMMA
    from tft.evaluate import attach_outcomes
    data = load(data_dir)
    df = adapt(attach_outcomes(pd.read_csv(backtest_csv, parse_dates=["date"]), data.panel),
               GAMMA if gamma is None else gamma)
    out.mkdir(parents=True, exist_ok=True)
    table = scores(df)
    table.to_csv(out / "intervals.csv", index=False)
    plot_coverage(df, out / "coverage.png")
    with pd.option_context("display.width", 250, "display.float_format", "{:.4f}".format):
        typer.echo(table.to_string(index=False))
    typer.echo(f"written to {out}")


@cli.command("risk-rules")
def risk_rules(backtest_csv: Path = typer.Argument(..., help="a file written by `backtest`"),
               data_dir: Path = typer.Option(..., help="market data folder"),
               model: str = typer.Option("default", help="the backtest's model, whose regime book the regime rule reads"),
               out: Path = typer.Option(Path("reports/risk-rules"), help="folder for report.md, CSV and plot")) -> None:
    """Each risk rule alone on a backtest's forecasts, beside them unwidened on the same rows:
    which rules earn their place (inference/risk_rules.py)."""
    import pandas as pd

    from features.cross_asset import Context
    from features.data import load
    from inference.models import regime_path
    from inference.risk_rules import compare, rule_factors, verdicts
    from regime.book import RegimeBook
    from tft.evaluate import attach_outcomes
    from tft.report import markdown_table
    data = load(data_dir)
    df = attach_outcomes(pd.read_csv(backtest_csv, parse_dates=["date"]), data.panel)
    book_file = regime_path(_artifact_path(model))
    book = RegimeBook.from_dict(orjson.loads(book_file.read_bytes())) if book_file.is_file() else None
    factors = rule_factors(data.panel, Context.from_bars(data.context), book)
    kept = verdicts(compare(df, factors))
    chosen = [name for name, (ok, _) in kept.items() if ok]
    table = compare(df, factors, {"kept": chosen})
    out.mkdir(parents=True, exist_ok=True)
    columns = ["rule", "horizon", "widened_share", "pinball", "pinball_vs_none", "rw_pinball", "cover_68",
               "cover_95"]
    table[columns].to_csv(out / "risk_rules.csv", index=False, float_format="%.5f")
    lines = [f"# Risk rules on {backtest_csv.name}", "",
             f"{df['symbol'].nunique()} symbols, origins {df['date'].min().date()} .. {df['date'].max().date()}; "
             "each rule alone widens the forecasts as the service would have that day. `none` is unwidened.", "",
             markdown_table(table[columns]), "", f"`kept` widens by the largest factor of {chosen}.", "",
             "## Verdicts", ""]
    lines += [f"- `{name}`: {'kept' if ok else 'not kept'} ({why})" for name, (ok, why) in kept.items()]
    (out / "report.md").write_text("\n".join(lines) + "\n")
    _risk_plot(table, out / "risk_rules.png")
    for name, (ok, why) in kept.items():
        typer.echo(f"{name:15s} {'KEPT' if ok else 'not kept':9s} {why}")
    typer.echo(f"report: {out / 'report.md'}; RISK_RULES={','.join(chosen)}")


def _risk_plot(table, path: Path) -> None:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, axes = plt.subplots(1, 3, figsize=(15, 4))
    for ax, (col, title, ref) in zip(axes, [("pinball_vs_none", "pinball loss / unwidened", 1.0),
                                            ("cover_68", "68% interval coverage", 0.68),
                                            ("cover_95", "95% interval coverage", 0.95)]):
        wide = table.pivot(index="horizon", columns="rule", values=col)
        wide.plot.bar(ax=ax, rot=0, width=0.85, legend=ax is axes[0])
        ax.axhline(ref, color="black", linewidth=0.8)
        ax.set_title(title)
        lo, hi = wide.values.min(), wide.values.max()
        ax.set_ylim(lo - (hi - lo) * 0.3, hi + (hi - lo) * 0.3)
    fig.savefig(path, dpi=110, bbox_inches="tight")
    plt.close(fig)


@cli.command()
def interpret(data_dir: Path = typer.Option(..., help="market data folder"),
              model: str = typer.Option("default", help="'default', an artifact path or a registry version"),
              start: str = typer.Option(..., help="first origin, YYYY-MM-DD"),
              end: str = typer.Option(None, help="last origin"),
              out: Path = typer.Option(Path("reports/interpret"), help="folder for CSVs and plots"),
              horizon: int = typer.Option(5, help="horizon of the importance plot"),
              store_rows: bool = typer.Option(False, "--store", help="also write feature_importance")) -> None:
    """Variable importance per horizon (global and per symbol) and attention patterns."""
    from features.data import load
    from stream.importance import interpret_recent, store
    from tft.interpret import plot
    art = _artifact(model)
    interp = interpret_recent(load(data_dir), art, start, end)
    out.mkdir(parents=True, exist_ok=True)
    interp.importance.to_csv(out / "feature_importance.csv", index=False)
    interp.attention.to_csv(out / "attention.csv", index=False)
    paths = plot(interp, out, horizon)
    g = interp.importance
    top = g[(g["symbol"] == "*") & (g["horizon"] == horizon)].nlargest(10, "importance")
    typer.echo(top[["feature", "feature_group", "importance"]].round(4).to_string(index=False))
    typer.echo("plots: " + ", ".join(map(str, paths)))
    if store_rows:
        n = asyncio.run(store(load_settings().persistence.database_url, art.version, interp))
        typer.echo(f"stored {n} rows in feature_importance for {art.version}")


@cli.command()
def prune(data_dir: Path = typer.Option(..., help="market data folder"),
          model: str = typer.Option("default", help="'default', an artifact path or a registry version"),
          keep: str = typer.Option("20,40", help="comma-separated feature counts to try"),
          out: Path = typer.Option(Path("reports/prune"), help="folder for the models, tables, plot and features.yaml"),
          device: str = typer.Option(None, help="cpu, cuda[:N] or auto (default TFT_DEVICE)")) -> None:
    """Rank the model's features by importance on its validation year, train it again on
    the top K of them, and keep the smallest set no worse on that year at every horizon
    (tft/prune.py); `train --config OUT/features.yaml` trains on what is kept."""
    from features.data import load
    from tft.prune import PruneConfig, prune as run
    art = _artifact(model)
    p = run(load(data_dir), art, out, PruneConfig(keep=tuple(int(k) for k in keep.split(","))),
            {"device": device or load_settings().inference.device})
    wide = p.scores.pivot(index="features", columns="horizon", values="pinball")
    typer.echo("validation pinball by feature count and horizon:\n" + wide.round(6).to_string())
    typer.echo(f"{p.reason}\nwrote {out / 'features.yaml'}, {out / 'pruning.png'}, ranking.csv, scores.csv")


@cli.command()
def calibrate(data_dir: Path = typer.Option(..., help="market data folder"),
              model: str = typer.Option("default", help="'default', an artifact path or a registry version")) -> None:
    """Fit an artifact's interval factors on its validation range and store them in it
    (`train` does this itself; this is for artifacts made before it did)."""
    from features.data import load
    from tft.train import recalibrate
    path = _artifact_path(model)
    info = recalibrate(load(data_dir), path)
    typer.echo(f"calibrated {path} on {info['origins']:,} origins {info['range'][0]}..{info['range'][1]}")
    levels = info["levels"]
    nominal = ", ".join(f"{levels[-1 - j] - levels[j]:.0%}" for j in range(len(levels) // 2))
    for z, h in enumerate(info["horizons"]):
        typer.echo(f"  {h:>2}d: {nominal} intervals covered {info['coverage_before'][z]} -> "
                   f"{info['coverage_after'][z]}, factors {info['factors'][z][:len(levels) // 2]}")


@cli.command()
def register(path: Path = typer.Argument(..., help="a model artifact")) -> None:
    """Copy an artifact into the model store and record it in model_registry as a candidate."""
    from stream.registry import register as add
    settings = load_settings()
    art = asyncio.run(add(settings.persistence.database_url, path, settings.inference.model_store))
    typer.echo(f"registered {art.version} -> {settings.inference.model_store / (art.version + '.pt')}")


@cli.command()
def promote(version: str = typer.Argument(..., help="a registered version"),
            reason: str = typer.Option("", help="why, for the registry and the audit"),
            by: str = typer.Option("cli", help="who asks"),
            source: str = typer.Option("cli", hidden=True),
            force: bool = typer.Option(False, help="skip the validation gate"),
            data_dir: Path = typer.Option(None, help="market data for the gate; default MARKET_DATA_DIR")) -> None:
    """Score a registered version against the active one on the latest sessions; make it
    active if it is no worse (the thresholds: GATE_*). Exit status 3 when it is refused."""
    from stream.registry import active, promote as run, verified
    settings = load_settings()
    url = settings.persistence.database_url
    gate = None
    if not force:
        from features.data import load
        from tft.gate import compare
        current = asyncio.run(active(url))
        candidate = _artifact(version)
        gate = compare(load(data_dir or settings.stream.data_dir), candidate,
                       _artifact(str(verified(current))) if current else None, settings.gate)
    record = asyncio.run(run(url, version, gate, by, reason or "promoted from the command line", source))
    typer.echo(orjson.dumps(record, option=orjson.OPT_INDENT_2).decode())
    if not record["promoted"]:
        raise typer.Exit(3)


@cli.command(hidden=True)
def retrain(job_id: str = typer.Option(...), retrain_type: str = typer.Option("incremental"),
            by: str = typer.Option("kafka"), reason: str = typer.Option("asked"), source: str = typer.Option("kafka"),
            symbols: str = typer.Option("", help="comma-separated gate symbols; default GATE_SYMBOLS")) -> None:
    """A retraining job, as the worker runs it: train, register, gate, promote. Each step
    is a JSON line on stdout, which the worker relays to model.events."""
    import shutil
    from dataclasses import replace
    from datetime import UTC, datetime

    from features.data import load, with_bars
    from features.quality import bar_problems
    from inference.models import regime_path
    from stream.publish import bars_on
    from stream.registry import active, promote as run_promote, register as add, verified
    from tft.gate import compare
    from tft.train import refit, train as fit

    def emit(kind: str, message: str, progress: float, **extra) -> None:
        typer.echo(orjson.dumps({"kind": kind, "message": message, "progress": progress, **extra}).decode())

    settings = load_settings()
    url, store, r = settings.persistence.database_url, settings.inference.model_store, settings.retrain
    today = datetime.now(UTC).date()
    folder = load(settings.stream.data_dir)
    live = asyncio.run(bars_on(settings.kafka_client(), _topics().full_name("market.ticks"),
                               lambda bar: not bar_problems(bar, settings.quality, today)))
    data = with_bars(folder, live)
    end = str(data.panel["date"].max().date())
    added = len(data.panel) + len(data.context) - len(folder.panel) - len(folder.context)
    emit("started", f"{retrain_type} retrain to {end}: the data folder and {added} newer bars from market.ticks",
         0.02)
    current = asyncio.run(active(url))
    init_path = verified(current) if current else _artifact_path("default")
    init = _artifact(str(init_path))
    tag = job_id.replace(":", "-")[-12:]
    model_config, config, start_from = refit(retrain_type, end, init, settings.tft, r,
                                             device=settings.inference.device, tag=tag)
    out = store / f"job-{tag}.pt"
    epochs = config.epochs
    art = fit(data, out, model_config, config, progress=False, init=start_from,
              on_epoch=lambda e, val: emit("progress", f"epoch {e}/{epochs}: validation loss {val['total']:.5f}",
                                           0.05 + 0.75 * e / epochs))
    if retrain_type == "full":
        fit_regime(data, end, regime_path(out))
    elif regime_path(init_path).is_file():  # an incremental retrain keeps the served regime book
        shutil.copyfile(regime_path(init_path), regime_path(out))
    art = asyncio.run(add(url, out, store))
    out.unlink()
    regime_path(out).unlink(missing_ok=True)
    emit("trained", f"candidate {art.version}", 0.85, version=art.version)
    gate_config = replace(settings.gate, symbols=tuple(symbols.split(","))) if symbols else settings.gate
    gate = compare(data, art, init, gate_config)  # against what is served: the active version or TFT_MODEL
    emit("gate", gate["reason"], 0.95, version=art.version, detail=gate)
    record = asyncio.run(run_promote(url, art.version, gate, by, reason, source))
    emit("promoted" if record["promoted"] else "kept", record["reason"], 1.0, version=art.version)


@cli.command()
def rollback(reason: str = typer.Option(..., help="why, for the registry and the audit"),
             by: str = typer.Option("cli", help="who asks")) -> None:
    """Make the version the active one replaced active again."""
    from stream.registry import rollback as run
    record = asyncio.run(run(load_settings().persistence.database_url, by, reason))
    typer.echo(orjson.dumps(record).decode())


def _artifact_path(model: str) -> Path:
    """'default', a file, or a registry version, as a file."""
    from stream.registry import artifact_path
    settings = load_settings()
    return asyncio.run(artifact_path(settings.persistence.database_url, model, settings.inference.default_artifact))


def _artifact(model: str):
    from tft.artifact import load as load_artifact
    return load_artifact(_artifact_path(model))


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    cli()
