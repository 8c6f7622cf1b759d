"""The researcher's commands that score forecasts: backtest, evaluate, skill,
adapt-intervals, risk-rules, data-quality, regimes. Each writes what people would rather
see than read as plots beside its tables."""
from pathlib import Path

import typer

from features.cross_asset import MARKET
from lifecycle.settings import LifecycleSettings
from research.inputs import artifact, backtest_rows, regime_book

app = typer.Typer()


@app.command()
def backtest(ctx: typer.Context,
             data_dir: Path = typer.Option(..., help="market data folder"),
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
    s: LifecycleSettings = ctx.obj
    art = artifact(s, model)
    data, picked = load(data_dir), symbols.split(",") if symbols else None
    if retrain_every:
        plan = Walk(retrain_every, retrain, s.retrain, None if no_gate else s.gate,
                    (("device", s.inference.device),))
        df = walk(data, art, start, end, picked, plan, work_dir or out.with_name(out.name + ".walk"))
    else:
        df = run(data, art, start, end, picked)
    out.parent.mkdir(parents=True, exist_ok=True)
    df.to_csv(out, index=False, float_format="%.6g")
    made_by = f"{df['model'].nunique()} models from {art.version}" if "model" in df else art.version
    typer.echo(f"wrote {len(df):,} rows for {df['symbol'].nunique()} symbols to {out} ({made_by})")


@app.command()
def evaluate(ctx: typer.Context,
             backtest_csv: Path = typer.Argument(..., help="a file written by `backtest`"),
             data_dir: Path = typer.Option(..., help="market data folder, for outcomes and baselines"),
             out: Path = typer.Option(Path("reports/evaluation"), help="folder for report.md and plots"),
             model: str = typer.Option("default", help="whose regime book splits the rows by regime"),
             fan_symbol: str = MARKET) -> None:
    """Score a backtest beside the naive baselines, by horizon, symbol and regime (VIX band,
    the symbol's HMM regime, the market's); writes a markdown report with plots."""
    import pandas as pd

    from features.cross_asset import Context
    from features.data import load
    from regime.book import with_regimes
    from tft.evaluate import evaluate as by
    from tft.report import HEADLINE, write_report
    data = load(data_dir)
    df = backtest_rows(backtest_csv, data.panel, data.context[data.context["symbol"] == "VIX"])
    if (book := regime_book(ctx.obj, model)) is not None:
        df = with_regimes(df, book, data.panel, Context.from_bars(data.context))
    path = write_report(df, out, f"Evaluation of {backtest_csv.name}", fan_symbol)
    with pd.option_context("display.width", 250, "display.float_format", "{:.5g}".format):
        typer.echo(by(df, "horizon")[HEADLINE].to_string(index=False))
    typer.echo(f"report: {path}")


@app.command()
def skill(backtest_csv: Path = typer.Argument(..., help="a file written by `backtest`"),
          data_dir: Path = typer.Option(..., help="market data folder, for outcomes"),
          out: Path = typer.Option(Path("reports/skill"), help="folder for the table and the reliability plot")) -> None:
    """Skill or luck: directional accuracy beside always up, Brier beside the base rate
    (the rows' own, and the one known on each day), the sign strategy's Sharpe beside
    buy-and-hold, each with a block-bootstrap interval."""
    import pandas as pd

    from features.data import load
    from tft.skill import plot_reliability, skill as by_horizon, with_known_rate
    panel = load(data_dir).panel
    df = with_known_rate(backtest_rows(backtest_csv, panel), panel)
    out.mkdir(parents=True, exist_ok=True)
    table = by_horizon(df)
    table.to_csv(out / "skill.csv", index=False)
    plot_reliability(df, out / "reliability.png")
    with pd.option_context("display.width", 300, "display.max_columns", 30, "display.float_format", "{:.4f}".format):
        typer.echo(table.to_string(index=False))
    typer.echo(f"written to {out}")


@app.command("adapt-intervals")
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
    df = adapt(backtest_rows(backtest_csv, load(data_dir).panel), GAMMA if gamma is None else gamma)
    out.mkdir(parents=True, exist_ok=True)
    table = scores(df)
    table.to_csv(out / "intervals.csv", index=False)
    plot_coverage(df, out / "coverage.png")
    with pd.option_context("display.width", 250, "display.float_format", "{:.4f}".format):
        typer.echo(table.to_string(index=False))
    typer.echo(f"written to {out}")


@app.command("risk-rules")
def risk_rules(ctx: typer.Context,
               backtest_csv: Path = typer.Argument(..., help="a file written by `backtest`"),
               data_dir: Path = typer.Option(..., help="market data folder"),
               model: str = typer.Option("default", help="the backtest's model, whose regime book the regime rule reads"),
               out: Path = typer.Option(Path("reports/risk-rules"), help="folder for report.md, CSV and plot")) -> None:
    """Each risk rule alone on a backtest's forecasts, beside them unwidened on the same rows:
    which rules earn their place (inference/risk_rules.py)."""
    from features.cross_asset import Context
    from features.data import load
    from inference.risk_rules import rule_factors, write_report
    data = load(data_dir)
    factors = rule_factors(data.panel, Context.from_bars(data.context), regime_book(ctx.obj, model))
    kept = write_report(backtest_rows(backtest_csv, data.panel), factors, out, f"Risk rules on {backtest_csv.name}")
    for name, (ok, why) in kept.items():
        typer.echo(f"{name:15s} {'KEPT' if ok else 'not kept':9s} {why}")
    typer.echo(f"report: {out / 'report.md'}; RISK_RULES={','.join(n for n, (ok, _) in kept.items() if ok)}")


@app.command("data-quality")
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


@app.command()
def regimes(ctx: typer.Context,
            data_dir: Path = typer.Option(..., help="market data folder"),
            symbol: str = typer.Option(MARKET),
            model: str = typer.Option("default", help="whose regime book"),
            start: str = typer.Option("1993-01-01"), end: str = typer.Option(None),
            out: Path = typer.Option(..., help="folder for <symbol>_regimes.csv and .png")) -> None:
    """A symbol's filtered regime on every day of the data, as a table and a plot."""
    import pandas as pd

    from features.cross_asset import Context
    from features.data import load
    from regime.plot import plot_path
    book = regime_book(ctx.obj, model)
    if book is None:
        raise typer.BadParameter(f"{model} has no regime book; write one with `tft-forecast fit-regimes`")
    data = load(data_dir)
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
