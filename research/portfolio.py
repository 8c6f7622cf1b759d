"""The researcher's commands for books: portfolio-backtest (VaR and ES beside the banks'
baselines, with the regulators' tests) and fit-dependence (the copula beside a model)."""
from pathlib import Path

import typer

from research.inputs import artifact_path_of

app = typer.Typer()


@app.command("portfolio-backtest")
def portfolio_backtest(backtest_csv: list[Path] = typer.Argument(..., help="files written by `backtest`, in time "
                                                                            "order: the validation year's model first"),
                       data_dir: Path = typer.Option(..., help="market data folder, for outcomes and baselines"),
                       validation_start: str = typer.Option("2021-01-01", help="first session the copula's choice "
                                                                               "is scored on"),
                       test_start: str = typer.Option("2022-01-01", help="first session of the test"),
                       out: Path = typer.Option(Path("reports/portfolio"), help="folder for report.md, CSVs and "
                                                                                  "plots")) -> None:
    """Four books' VaR and expected shortfall at 95% and 99%, 1 and 5 sessions ahead,
    walked forward: the TFT's forecasts joined by the copula beside historical simulation
    and RiskMetrics, each with Kupiec, Christoffersen, Acerbi-Szekely and the tick loss;
    and every symbol's own 68% and 95% intervals under the same tests."""
    import pandas as pd

    from features.data import load
    from inference.adaptive import adapt
    from research.book_backtest import backtest, symbol_intervals, tail_rates
    from research.book_report import write
    from tft.evaluate import attach_outcomes

    panel = load(data_dir).panel
    rows = pd.concat([pd.read_csv(p, parse_dates=["date"]) for p in backtest_csv], ignore_index=True)
    # Where files overlap the earlier model's row is kept: the later one was trained on those days.
    rows = rows.drop_duplicates(["symbol", "date", "horizon"], keep="first")
    df = adapt(attach_outcomes(rows, panel))
    closes = panel.pivot(index="date", columns="symbol", values="close").sort_index()
    table, choice, daily = backtest(df, closes, validation_start, test_start)
    intervals = symbol_intervals(df, test_start)
    tails = tail_rates(df, validation_start, test_start)
    path = write(out, table, choice, daily, intervals, tails, [p.name for p in backtest_csv], validation_start,
                 test_start)
    typer.echo(f"copula: {'gaussian' if choice.dof is None else f't({choice.dof:g})'}, "
               f"half-life {choice.halflife:g} sessions")
    with pd.option_context("display.width", 250, "display.max_columns", 20, "display.float_format", "{:.4g}".format):
        typer.echo(table.to_string(index=False))
    typer.echo(f"report: {path}")


@app.command("fit-dependence")
def fit_dependence(ctx: typer.Context,
                   data_dir: Path = typer.Option(..., help="market data folder"),
                   model: str = typer.Option("default", help="'default', an artifact path or a registry version"),
                   end: str = typer.Option(None, help="last outcome day; default: the data's end")) -> None:
    """Fit the copula on the model's own forecasts' outcomes and save it beside the model
    (`<model>.dependence.json`), as the retraining job does."""
    from features.data import load
    from inference.dependence import save
    from lifecycle.dependence import fit
    from tft.artifact import load as load_artifact
    path = artifact_path_of(ctx.obj, model)
    dep = fit(load(data_dir), load_artifact(path), end)
    typer.echo(f"{dep.family} copula (dof {dep.dof}) over {len(dep.symbols)} symbols as of {dep.as_of}, "
               f"half-life {dep.halflife:g}: {save(dep, path)}")
