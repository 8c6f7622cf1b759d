"""The researcher's commands that make or read a model: train, fit-regimes, interpret,
prune, calibrate. Heavy imports wait inside each command, so `--help` stays instant."""
import asyncio
from pathlib import Path

import typer

from inference.models import regime_path
from lifecycle.settings import LifecycleSettings
from research.inputs import artifact, artifact_path_of

app = typer.Typer()


def described(book) -> str:
    return ", ".join(f"{cls} {len(m.labels)} states {m.labels}" for cls, m in book.models.items())


@app.command()
def train(ctx: typer.Context,
          data_dir: Path = typer.Option(..., help="market data folder"),
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
    from tft.config_file import read
    from lifecycle.retrain import fit_regime
    from tft.train import TrainConfig, train as fit
    s: LifecycleSettings = ctx.obj
    model_keys, train_keys = read(config) if config else ({}, {})
    model_config = replace(s.tft.full() if full else s.tft, **model_keys)
    train_keys = {"device": device or s.inference.device, "batch_size": s.retrain.batch_size,
                  **train_keys, **({"epochs": epochs} if epochs else {}), **({"end": end} if end else {})}
    if "end" not in train_keys:
        raise typer.BadParameter("--end, or training_config.end in --config, is required")
    train_config = TrainConfig(**train_keys)
    data = load(data_dir)
    art = fit(data, out, model_config, train_config)
    typer.echo(f"wrote {out} ({art.version}); best validation loss "
               f"{art.meta['metrics']['best_validation_loss']:.5f} in {art.meta['train_seconds']} s")
    book = fit_regime(data, train_config.end, out, s.regime)
    typer.echo(f"wrote {regime_path(out)}: {described(book)}")


@app.command("fit-regimes")
def fit_regimes(ctx: typer.Context,
                data_dir: Path = typer.Option(..., help="market data folder"),
                end: str = typer.Option(..., help="last day the regime models may see, YYYY-MM-DD"),
                model: str = typer.Option("default", help="the model artifact whose regime book to write")) -> None:
    """Fit the regime book of a model artifact again (states chosen by BIC per asset class)."""
    from features.data import load
    from lifecycle.retrain import fit_regime
    s: LifecycleSettings = ctx.obj
    path = artifact_path_of(s, model)
    book = fit_regime(load(data_dir), end, path, s.regime)
    typer.echo(f"wrote {regime_path(path)}: {described(book)}")


@app.command()
def interpret(ctx: typer.Context,
              data_dir: Path = typer.Option(..., help="market data folder"),
              model: str = typer.Option("default", help="'default', an artifact path or a registry version"),
              start: str = typer.Option(..., help="first origin, YYYY-MM-DD"),
              end: str = typer.Option(None, help="last origin"),
              out: Path = typer.Option(Path("reports/interpret"), help="folder for CSVs and plots"),
              horizon: int = typer.Option(5, help="horizon of the importance plot"),
              store_rows: bool = typer.Option(False, "--store", help="also write feature_importance")) -> None:
    """Variable importance per horizon (global and per symbol) and attention patterns."""
    from features.data import load
    from lifecycle.importance import store
    from tft.interpret import interpret_range, plot
    s: LifecycleSettings = ctx.obj
    art = artifact(s, model)
    interp = interpret_range(load(data_dir), art, start, end)
    out.mkdir(parents=True, exist_ok=True)
    interp.importance.to_csv(out / "feature_importance.csv", index=False)
    interp.attention.to_csv(out / "attention.csv", index=False)
    paths = plot(interp, out, horizon)
    g = interp.importance
    top = g[(g["symbol"] == "*") & (g["horizon"] == horizon)].nlargest(10, "importance")
    typer.echo(top[["feature", "feature_group", "importance"]].round(4).to_string(index=False))
    typer.echo("plots: " + ", ".join(map(str, paths)))
    if store_rows:
        n = asyncio.run(store(s.persistence.database_url, art.version, interp))
        typer.echo(f"stored {n} rows in feature_importance for {art.version}")


@app.command()
def prune(ctx: typer.Context,
          data_dir: Path = typer.Option(..., help="market data folder"),
          model: str = typer.Option("default", help="'default', an artifact path or a registry version"),
          keep: str = typer.Option("20,40", help="comma-separated feature counts to try"),
          out: Path = typer.Option(Path("reports/prune"), help="folder for the models, tables, plot and features.yaml"),
          device: str = typer.Option(None, help="cpu, cuda[:N] or auto (default TFT_DEVICE)")) -> None:
    """Rank the model's features by importance on its validation year, train it again on
    the top K of them, and keep the smallest set no worse on that year at every horizon
    (tft/prune.py); `train --config OUT/features.yaml` trains on what is kept."""
    from features.data import load
    from tft.prune import PruneConfig, prune as run
    s: LifecycleSettings = ctx.obj
    p = run(load(data_dir), artifact(s, model), out, PruneConfig(keep=tuple(int(k) for k in keep.split(","))),
            {"device": device or s.inference.device})
    wide = p.scores.pivot(index="features", columns="horizon", values="pinball")
    typer.echo("validation pinball by feature count and horizon:\n" + wide.round(6).to_string())
    typer.echo(f"{p.reason}\nwrote {out / 'features.yaml'}, {out / 'pruning.png'}, ranking.csv, scores.csv")


@app.command()
def calibrate(ctx: typer.Context,
              data_dir: Path = typer.Option(..., help="market data folder"),
              model: str = typer.Option("default", help="'default', an artifact path or a registry version")) -> None:
    """Fit an artifact's interval factors on its validation range and store them in it
    (`train` does this itself; this is for artifacts made before it did)."""
    from features.data import load
    from tft.train import recalibrate
    path = artifact_path_of(ctx.obj, model)
    info = recalibrate(load(data_dir), path)
    typer.echo(f"calibrated {path} on {info['origins']:,} origins {info['range'][0]}..{info['range'][1]}")
    levels = info["levels"]
    nominal = ", ".join(f"{levels[-1 - j] - levels[j]:.0%}" for j in range(len(levels) // 2))
    for z, h in enumerate(info["horizons"]):
        typer.echo(f"  {h:>2}d: {nominal} intervals covered {info['coverage_before'][z]} -> "
                   f"{info['coverage_after'][z]}, factors {info['factors'][z][:len(levels) // 2]}")


@app.command()
def export(ctx: typer.Context,
           model: str = typer.Argument("default", help="'default', an artifact path or a registry version"),
           onnx: Path = typer.Option(None, "--onnx", help="graph file to write; default beside the artifact, "
                                                          "where a worker looks for it"),
           window: str = typer.Option(None, help="also write this symbol's last window as the graph's inputs, "
                                                 "FILE.SYMBOL.npz, for scripts/edge_forecast.py"),
           data_dir: Path = typer.Option(None, help="market data folder, for --window"),
           end: str = typer.Option(None, help="the window's last day, YYYY-MM-DD (default: the folder's last)"),
           ) -> None:
    """Export a model to ONNX: what TFT_RUNTIME=onnx|auto serves with onnxruntime, and what
    a forecast at the edge needs, without PyTorch. Checked against torch after writing."""
    import numpy as np

    from tft.export import example_inputs, export_onnx, largest_difference, onnx_path
    from tft.predict import forward
    from tft.runtime import OnnxModel
    s: LifecycleSettings = ctx.obj
    path = artifact_path_of(s, model)
    art = artifact(s, model)
    out = export_onnx(art, onnx or onnx_path(path))
    session = OnnxModel(out, next(art.model.parameters()).device)
    inputs = example_inputs(art.config, batch=3)
    want, got = forward(art.model, inputs), session(inputs)
    worst = largest_difference(want, got)
    typer.echo(f"wrote {out} ({art.version}, {out.stat().st_size / 1e6:.1f} MB); outputs within {worst:.1e} of torch's")
    if window:
        if data_dir is None:
            raise typer.BadParameter("--window needs --data-dir")
        from features.data import load
        from tft.data import market_series
        from tft.export import window_inputs
        (series,) = market_series(load(data_dir), end, [window]) or (None,)
        if series is None:
            raise typer.BadParameter(f"{window}: not in {data_dir}")
        target = out.with_suffix(f".{window}.npz")
        np.savez(target, **window_inputs(art, series))
        typer.echo(f"wrote {target}: {window}'s window to {series.dates[-1]}; "
                   f"python scripts/edge_forecast.py {out} {target}")
