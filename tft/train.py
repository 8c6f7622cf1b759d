"""Training with a walk-forward split: fit on the past, stop early on the year after it.

Seeds are fixed; the learning rate halves when validation stalls; gradients are
clipped; a progress bar shows the losses. The result is one artifact file.
"""
import logging
import math
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from tqdm import tqdm

from features.catalog import KNOWN, NAMES, OBSERVED
from features.data import MarketData
from features.scaling import Scaler
from tft import artifact, calibration
from tft.config import RetrainConfig, TFTConfig
from tft.data import ASSET_CLASSES, InputSpec, Panel, market_series, sample_days
from tft.device import autocast, choose
from tft.distributed import World, world
from tft.losses import tft_loss
from tft.model import TemporalFusionTransformer
from tft.predict import forward

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class TrainConfig:
    end: str  # last day of data the model may see, YYYY-MM-DD
    validation_days: int = 365  # calendar days before `end` held out for early stopping
    start: str = "1993-01-01"  # first origin used for training
    epochs: int = 20
    batches_per_epoch: int = 40  # short epochs: validation picks the best point often
    batch_size: int = 128  # BATCH_SIZE
    validation_samples: int = 4096
    lr: float = 1e-3
    weight_decay: float = 1e-4
    grad_clip: float = 1.0
    patience: int = 4  # epochs without improvement before stopping
    seed: int = 7
    device: str = "cpu"  # TFT_DEVICE: cpu, cuda[:N] or auto; bfloat16 autocast on CUDA
    tag: str | None = None  # ends the version, so that two trainings to the same day differ
    features: tuple[str, ...] | None = None  # the past-only features to read; None: the catalog's all (tft/prune.py)


@dataclass(frozen=True)
class Split:
    """Everything a training run reads, cut walk-forward at the validation start."""

    series: list
    spec: InputSpec
    model_config: TFTConfig  # with the input sizes of this data filled in
    scaler: Scaler
    panel: Panel  # every series' inputs and targets, built once, for batches gathered by index
    train_idx: np.ndarray  # (N, 2) training origins
    val_batches: list
    val_start: np.datetime64
    end: np.datetime64


def split(data: MarketData, model_config: TFTConfig, config: TrainConfig, rng) -> Split:
    end = np.datetime64(config.end, "D")
    val_start = end - np.timedelta64(config.validation_days, "D")
    series = market_series(data, end)
    spec = InputSpec(tuple(s.symbol for s in series), model_config.encoder_length,
                     model_config.decoder_length, model_config.horizons, observed_features(config.features))
    model_config = TFTConfig(**{**asdict(model_config), "n_observed": len(spec.observed),
                                "n_known": len(KNOWN), "n_symbols": len(series) + 1,
                                "n_asset_classes": len(ASSET_CLASSES)})
    # Walk-forward: a training origin's longest target must end before validation starts,
    # and the scaler sees training dates only.
    H = model_config.horizons[-1]
    train_idx = np.concatenate([_before(i, s.dates, val_start, H, spec, np.datetime64(config.start))
                                for i, s in enumerate(series)])
    val_idx = sample_days(series, spec, val_start, end, need_target=True)
    if len(train_idx) == 0 or len(val_idx) == 0:
        raise ValueError(f"no training or validation origins up to {config.end}")
    scaler = Scaler.fit(np.concatenate([s.features[s.dates < val_start] for s in series]), NAMES)
    panel = Panel(series, spec, scaler)
    val_idx = val_idx[rng.permutation(len(val_idx))[:config.validation_samples]]
    log.info("training origins %d, validation origins %d (%s..%s)", len(train_idx), len(val_idx),
             val_start, end)
    val_batches = [panel.batch(val_idx[i:i + 512]) for i in range(0, len(val_idx), 512)]
    return Split(series, spec, model_config, scaler, panel, train_idx, val_batches, val_start, end)


def observed_features(names: tuple[str, ...] | None) -> tuple[str, ...]:
    """The catalog's past-only features, or those of `names` in the catalog's order."""
    if names is None:
        return OBSERVED
    wanted = set(names)
    if unknown := sorted(wanted - set(OBSERVED)):
        raise ValueError(f"features {unknown} are not past-only features of features/catalog.py")
    if not wanted:
        raise ValueError("a model reads at least one feature")
    return tuple(n for n in OBSERVED if n in wanted)


def train(data: MarketData, out: Path, model_config: TFTConfig, config: TrainConfig,
          progress: bool = True, init: artifact.Artifact | None = None,
          on_epoch: Callable[[int, dict], None] | None = None) -> artifact.Artifact:
    """`init`: start from its weights (an incremental retrain), not from scratch.
    `on_epoch(epoch, validation losses)` after each epoch, for a job's progress."""
    with world(config.device) as (w, device_name):
        return _train(data, out, model_config, config, progress and w.main, init, on_epoch, w, device_name)


def _train(data, out, model_config, config, progress, init, on_epoch, w: World, device_name: str):
    torch.manual_seed(config.seed)
    rng = np.random.default_rng(config.seed)
    sp = split(data, model_config, config, rng)
    device = choose(device_name)
    model = TemporalFusionTransformer(sp.model_config).to(device)
    if init is not None:
        model.load_state_dict(init.model.state_dict())
    step_model = w.wrap(model, device)  # what the training steps run through: DDP under torchrun
    opt = torch.optim.AdamW(model.parameters(), lr=config.lr, weight_decay=config.weight_decay)
    sched = torch.optim.lr_scheduler.ReduceLROnPlateau(opt, factor=0.5, patience=1)
    best, best_state, stale, history = math.inf, None, 0, []
    started = time.perf_counter()
    for epoch in range(1, config.epochs + 1):
        train_pinball = _epoch(step_model, opt, sp, config, rng, device, epoch, progress, w)
        val = _validate(model, sp.val_batches, sp.model_config, device)
        sched.step(val["total"])
        history.append({"epoch": epoch, "train_pinball": train_pinball,
                        **{f"val_{k}": v for k, v in val.items()}, "lr": opt.param_groups[0]["lr"]})
        log.info("epoch %d: validation %s", epoch, {k: round(v, 5) for k, v in val.items()})
        if progress:
            tqdm.write(f"epoch {epoch}: validation loss {val['total']:.5f} (pinball {val['pinball']:.5f})")
        if on_epoch is not None:
            on_epoch(epoch, val)
        if val["total"] < best - 1e-5:
            best, stale = val["total"], 0
            best_state = {k: v.detach().clone() for k, v in model.state_dict().items()}
        else:
            stale += 1
            if stale >= config.patience:
                break
    model.load_state_dict(best_state)
    factors, cal_info = _calibrate(model, sp.series, sp.panel, sp.val_start, sp.end)
    first_day = min(s.dates[0] for s in sp.series)
    meta = {
        "version": "-".join(filter(None, ("tft", config.end, artifact.git_commit() or "nogit", config.tag))),
        "train_range": [str(first_day), str(sp.val_start - np.timedelta64(1, "D"))],
        "validation_range": [str(sp.val_start), str(sp.end)],
        "train_config": asdict(config),
        "history": history,
        "metrics": {"best_validation_loss": best},
        "train_seconds": round(time.perf_counter() - started, 1),
        "calibration": cal_info,
    }
    if w.main:
        artifact.save(out, model, sp.spec, sp.scaler, meta | {"processes": w.size}, factors)
    w.barrier()  # the others read what rank 0 wrote
    return artifact.load(out)


def refit(kind: str, end: str, current: artifact.Artifact, fresh: TFTConfig, r: RetrainConfig,
          **on) -> tuple[TFTConfig, TrainConfig, artifact.Artifact | None]:
    """What a retrain to `end` trains (model config, training config, starting weights),
    for the service's retraining job and the backtest that retrains as it does. "full":
    the `fresh` model from scratch on everything; "incremental": `current`'s weights at a
    smaller step, on every year or the last few. Either reads `current`'s features, pruned
    or not. `on`: further TrainConfig fields (device, tag)."""
    on = {"features": current.spec.observed, **on}
    if kind == "full":
        return fresh, TrainConfig(end=end, epochs=r.full_epochs, batch_size=r.batch_size, **on), None
    if kind != "incremental":
        raise ValueError(f"a retrain is full or incremental, not {kind!r}")
    if r.incremental_years:
        on["start"] = str((pd.Timestamp(end) - pd.DateOffset(years=r.incremental_years)).date())
    return current.config, TrainConfig(end=end, epochs=r.incremental_epochs, lr=r.incremental_lr,
                                       batch_size=r.batch_size, **on), current


def recalibrate(data: MarketData, path: Path) -> dict:
    """Fit the interval factors of an existing artifact on its own validation range and
    store them in it (artifacts trained before calibration existed)."""
    art = artifact.load(path)
    start, end = (np.datetime64(d, "D") for d in art.meta["validation_range"])
    series = market_series(data, end, list(art.spec.symbols))
    factors, info = _calibrate(art.model, series, Panel(series, art.spec, art.scaler), start, end)
    artifact.set_calibration(path, factors, info)
    return info


def _calibrate(model, series, panel: Panel, start, end) -> tuple[np.ndarray, dict]:
    """Interval factors (Z, Q) from every origin of the validation range, and a record
    of the coverage before and after, per horizon and level."""
    idx = sample_days(series, panel.spec, start, end, need_target=True)
    quantiles, ys = [], []
    for i in range(0, len(idx), 512):
        inputs, y = panel.batch(idx[i:i + 512])
        quantiles.append(forward(model, inputs).quantiles.float().cpu().numpy())
        ys.append(y.numpy())
    q, y = np.concatenate(quantiles), np.concatenate(ys)  # (N, Z, Q), (N, Z) normalised
    levels = model.config.quantiles
    factors = calibration.fit(q, y, levels)
    info = {"range": [str(start), str(end)], "origins": int(len(y)), "levels": list(levels),
            "horizons": list(model.config.horizons), "factors": factors.round(4).tolist(),
            "coverage_before": calibration.coverage(q, y).round(4).tolist(),
            "coverage_after": calibration.coverage(calibration.apply(q, factors, levels), y).round(4).tolist()}
    log.info("interval calibration on %d origins %s..%s: factors %s", len(y), start, end, info["factors"])
    return factors, info


def _epoch(model, opt, sp: Split, config: TrainConfig, rng, device, epoch: int, progress: bool,
           w: World = World()) -> float:
    """One epoch of random training origins; returns its mean pinball loss (this
    process's share of each batch, under torchrun)."""
    model.train()
    bar = tqdm(range(config.batches_per_epoch), desc=f"epoch {epoch}/{config.epochs}",
               disable=not progress, unit="batch")
    running = []
    for _ in bar:
        pick = w.part(sp.train_idx[rng.integers(0, len(sp.train_idx), config.batch_size)])
        inputs, y = sp.panel.batch(pick)
        with autocast(device):
            out = model(inputs.to(device))
        loss, parts = tft_loss(out.float(), y.to(device), sp.model_config)  # the loss in full precision
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), config.grad_clip)
        opt.step()
        running.append(parts)
        bar.set_postfix({k: f"{np.mean([p[k] for p in running[-20:]]):.4f}" for k in parts})
    return float(np.mean([p["pinball"] for p in running]))


def _before(s_i, dates, val_start, H, spec, start) -> np.ndarray:
    t = np.arange(spec.min_history - 1, len(dates) - H)
    t = t[(dates[t + H] < val_start) & (dates[t] >= start)]
    return np.column_stack([np.full(len(t), s_i), t]).astype(np.int64)


@torch.no_grad()
def _validate(model, batches, config, device) -> dict[str, float]:
    model.eval()
    totals, n = {}, 0
    for inputs, y in batches:
        with autocast(device):
            out = model(inputs.to(device))
        loss, parts = tft_loss(out.float(), y.to(device), config)
        for k, v in {"total": loss.item(), **parts}.items():
            totals[k] = totals.get(k, 0.0) + v * len(y)
        n += len(y)
    return {k: v / n for k, v in totals.items()}
