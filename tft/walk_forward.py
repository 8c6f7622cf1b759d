"""A backtest that retrains as the service does: the sessions from `start` are cut into
segments of `every` sessions; the first is forecast by the given model, and before each
later one the model is retrained to the session before it (full or incremental, by the
same plan as the service's retraining job, its interval factors refitted on the year
before) and, as the service promotes it, served only if it passes the validation gate
against the model it would replace on what was known then. What it scores is what a
user of the running service would have been served.

Each segment's forecasts and model are written to a work folder as they are made, so an
interrupted walk resumes at the first segment it had not finished.
"""
import json
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from tqdm import tqdm

from features.data import MarketData
from tft import artifact
from tft.backtest import COLUMNS, backtest
from tft.config import GateConfig, RetrainConfig
from tft.gate import compare
from tft.train import refit, train


@dataclass(frozen=True)
class Walk:
    every: int  # sessions between retrains
    kind: str  # "incremental" or "full"
    retrain: RetrainConfig = RetrainConfig()
    gate: GateConfig | None = GateConfig()  # None: every retrained model is served
    train_fields: tuple[tuple[str, object], ...] = ()  # further TrainConfig fields (device; small ones in tests)


def segments(sessions: np.ndarray, every: int) -> list[tuple[str, str]]:
    """(first, last) day of each run of `every` sessions."""
    if every < 1:
        raise ValueError("--retrain-every is a number of sessions, at least 1")
    return [(str(part[0]), str(part[-1])) for part in
            (sessions[i:i + every] for i in range(0, len(sessions), every))]


def walk(data: MarketData, art: artifact.Artifact, start: str, end: str | None, symbols: list[str] | None,
         plan: Walk, folder: Path, progress: bool = True) -> pd.DataFrame:
    """Every segment's forecasts, the CSV columns of `backtest` and the `model` that made them."""
    seen = np.datetime64(art.meta["validation_range"][1], "D")
    if seen >= np.datetime64(start, "D"):
        raise ValueError(f"{art.version} saw data up to {seen}: a walk from {start} would score days it learnt")
    panel = data.panel if symbols is None else data.panel[data.panel["symbol"].isin(symbols)]
    days = np.unique(panel["date"].values.astype("datetime64[D]"))
    sessions = days[(days >= np.datetime64(start, "D")) & ((days <= np.datetime64(end, "D")) if end else True)]
    if len(sessions) == 0:
        raise ValueError(f"no sessions from {start} to {end or 'the end of the data'}")
    parts = segments(sessions, plan.every)
    _claim(folder, {"model": art.version, "start": start, "end": end, "symbols": symbols,
                    "every": plan.every, "kind": plan.kind, "retrain": asdict(plan.retrain),
                    "gate": asdict(plan.gate) if plan.gate else None,
                    "train_fields": dict(plan.train_fields), "segments": parts})
    current, frames = art, []
    bar = tqdm(parts, desc="walk", unit="segment", disable=not progress)
    for k, (first, last) in enumerate(bar):
        done, model_file = folder / f"segment-{k:03d}.csv", folder / f"model-{k:03d}.pt"
        if k > 0:
            retrain_end = str(days[np.searchsorted(days, np.datetime64(first, "D")) - 1])
            candidate = _model(data, current, art, retrain_end, plan, model_file, k, progress)
            if _passes(data.until(retrain_end), candidate, current, plan.gate, folder / f"gate-{k:03d}.json"):
                current = candidate
        bar.set_postfix(model=current.version, segment=f"{first}..{last}")
        if not done.is_file():
            df = backtest(data, current, first, last, symbols, progress=False).assign(model=current.version)
            _write(done, lambda tmp: df.to_csv(tmp, index=False, float_format="%.6g"))
        frames.append(pd.read_csv(done, parse_dates=["date"]))  # as a resumed walk reads it, to the digit
    return pd.concat(frames, ignore_index=True)[COLUMNS + ["model"]]


def _model(data, current, initial, end: str, plan: Walk, path: Path, k: int, progress: bool) -> artifact.Artifact:
    """Segment k's model: the one trained before, if the walk got that far, else a
    retrain to `end` of the previous segment's model (incremental) or of a fresh one
    shaped like the walk's `initial` model (full)."""
    if path.is_file():
        return artifact.load(path)
    model_config, config, init = refit(plan.kind, end, current, initial.config, plan.retrain,
                                       tag=f"walk{k:03d}", **dict(plan.train_fields))
    if progress:
        tqdm.write(f"segment {k}: {plan.kind} retrain to {end}")
    partial = path.with_name(path.stem + ".partial.pt")
    trained = train(data, partial, model_config, config, progress=progress, init=init)
    partial.replace(path)
    return trained


def _passes(known: MarketData, candidate, current, gate: GateConfig | None, record: Path) -> bool:
    """The gate's verdict on the candidate, kept beside it (a resumed walk reads it)."""
    if gate is None:
        return True
    if not record.is_file():
        verdict = compare(known, candidate, current, gate)
        _write(record, lambda tmp: tmp.write_text(json.dumps(verdict, indent=1)))
        tqdm.write(f"gate: {candidate.version} {'served' if verdict['passed'] else 'kept out'}: {verdict['reason']}")
    return json.loads(record.read_text())["passed"]


def _claim(folder: Path, settings: dict) -> None:
    """The work folder is this walk's: a folder left by a walk with other settings is refused
    rather than mixed into this one."""
    folder.mkdir(parents=True, exist_ok=True)
    plan = folder / "walk.json"
    text = json.dumps(settings, indent=1, sort_keys=True, default=str)
    if plan.is_file() and plan.read_text() != text:
        raise ValueError(f"{folder} holds a walk with other settings ({plan}); remove it or choose another folder")
    _write(plan, lambda tmp: tmp.write_text(text))


def _write(path: Path, write) -> None:
    tmp = path.with_name(path.name + ".tmp")
    write(tmp)
    tmp.replace(path)  # whole or absent, if the walk is stopped while it writes
