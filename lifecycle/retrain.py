"""The retrain pipeline: train, register, gate, promote, as one job.

A job trains from the data folder and the newer bars that reached market.ticks, starting
from the version served (incremental) or from scratch (full), registers the candidate,
scores it against the served model with the validation gate and promotes it if it is
no worse. Each step is a dict (kind, message, progress, and version and detail where
they apply) handed to `emit`; the worker relays them to model.events.

The worker runs a job in a spawned process of its own (`run_in_process`), so that
training never holds its event loop: the steps come back over a multiprocessing queue,
and a job that dies says how.
"""
import asyncio
import multiprocessing
import os
import queue
import shutil
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, fields, replace

import pandas as pd
import torch

from features.cross_asset import Context
from features.data import MarketData, load, with_bars
from inference.dependence import path_beside as dependence_path, save as save_dependence
from inference.models import regime_path, save_regime_book
from lifecycle.dependence import fit as fit_dependence
from lifecycle.settings import LifecycleSettings
from lifecycle.store import active, artifact_path, promote, register, verified
from regime.book import RegimeBook, fit_book
from regime.hmm import RegimeConfig
from tft.artifact import load as load_artifact
from tft.export import export_onnx, onnx_path
from tft.gate import compare
from tft.train import refit, train

ENDS = ("promoted", "kept", "failed")
Emit = Callable[[dict], None]


@dataclass(frozen=True)
class RetrainJob:
    job_id: str
    retrain_type: str = "incremental"  # or full
    reason: str = "asked"
    symbols: tuple[str, ...] = ()  # the gate's symbols; none: GATE_SYMBOLS
    by: str = "kafka"
    source: str = "kafka"


def fit_regime(data: MarketData, end: str, model_path, config: RegimeConfig) -> RegimeBook:
    """The regime book (a model per asset class, every symbol's scale) on the data up to
    `end`, saved beside the model it serves with."""
    book = fit_book(data.panel, Context.from_bars(data.context), end, config)
    save_regime_book(book, model_path)
    return book


def step(kind: str, message: str, progress: float, **extra) -> dict:
    return {"kind": kind, "message": message, "progress": progress, **extra}


def retrain(settings: LifecycleSettings, job: RetrainJob, live_bars: pd.DataFrame, emit: Emit) -> None:
    url, store = settings.persistence.database_url, settings.inference.model_store
    folder = load(settings.data_dir)
    data = with_bars(folder, live_bars)
    end = str(data.panel["date"].max().date())
    added = len(data.panel) + len(data.context) - len(folder.panel) - len(folder.context)
    emit(step("started", f"{job.retrain_type} retrain to {end}: the data folder and {added} newer bars "
                         "from market.ticks", 0.02))
    current = asyncio.run(active(url))
    init_path = verified(current) if current else asyncio.run(
        artifact_path(url, "default", settings.inference.default_artifact))
    init = load_artifact(init_path)
    tag = job.job_id.replace(":", "-")[-12:]
    model_config, config, start_from = refit(job.retrain_type, end, init, settings.tft, settings.retrain,
                                             device=settings.inference.device, tag=tag)
    out = store / f"job-{tag}.pt"
    epochs = config.epochs
    train(data, out, model_config, config, progress=False, init=start_from,
          on_epoch=lambda e, val: emit(step("progress", f"epoch {e}/{epochs}: validation loss {val['total']:.5f}",
                                            0.05 + 0.75 * e / epochs)))
    if job.retrain_type == "full":
        fit_regime(data, end, out, settings.regime)
        emit(step("progress", "fitting the copula on the candidate's own forecasts", 0.81))
        save_dependence(fit_dependence(data, load_artifact(out), end, settings.retrain.dependence_sessions), out)
    else:  # an incremental retrain keeps the served regime book and copula
        for sidecar in (regime_path, dependence_path):
            if sidecar(init_path).is_file():
                shutil.copyfile(sidecar(init_path), sidecar(out))
    if settings.inference.runtime != "torch":  # the graph onnxruntime serves, made here, not in a worker
        emit(step("progress", "exporting the model for onnxruntime", 0.82))
        export_onnx(load_artifact(out), onnx_path(out))
    art = asyncio.run(register(url, out, store))
    for made in (out, regime_path(out), onnx_path(out), dependence_path(out)):
        made.unlink(missing_ok=True)
    emit(step("trained", f"candidate {art.version}", 0.85, version=art.version))
    gate_config = replace(settings.gate, symbols=job.symbols) if job.symbols else settings.gate
    gate = compare(data, art, init, gate_config)  # against what is served: the active version or the default
    emit(step("gate", gate["reason"], 0.95, version=art.version, detail=gate))
    record = asyncio.run(promote(url, art.version, gate, job.by, job.reason, job.source))
    emit(step("promoted" if record["promoted"] else "kept", record["reason"], 1.0, version=art.version))


def threads(configured: int) -> int:
    """A job's CPU threads: as configured, or every core but one."""
    return configured or max(1, (os.cpu_count() or 1) - 1)


def _child(settings: LifecycleSettings, job: RetrainJob, live_bars: Callable[[], pd.DataFrame], steps) -> None:
    # With a thread on every core, a job competes with the worker beside it for each of
    # them (and two jobs at once took 340 s on 2 cores, against 180 s one after the other).
    torch.set_num_threads(threads(settings.retrain.threads))
    try:
        retrain(settings, job, live_bars(), steps.put)
    except BaseException as e:  # told to the worker, then the process ends with an error status
        steps.put(step("failed", f"{type(e).__name__}: {e}", 0.0))
        raise


def _next(steps, proc) -> dict | None:
    """The next step, or None once the process has ended with nothing more to say."""
    while True:
        try:
            return steps.get(timeout=0.5)
        except queue.Empty:
            if not proc.is_alive():
                try:
                    return steps.get(timeout=0.5)  # what it put just before it ended
                except queue.Empty:
                    return None


async def run_in_process(settings: LifecycleSettings, job: RetrainJob,
                         live_bars: Callable[[], pd.DataFrame]) -> AsyncIterator[dict]:
    """`retrain` in a spawned process, its steps as they come; the last is always one of
    ENDS (a process that ended without one is `failed`, with its exit status).
    `live_bars` runs in that process, so it must pickle: a module-level function or a partial."""
    lifecycle = LifecycleSettings(**{f.name: getattr(settings, f.name) for f in fields(LifecycleSettings)})
    ctx = multiprocessing.get_context("spawn")
    steps = ctx.Queue()
    proc = ctx.Process(target=_child, args=(lifecycle, job, live_bars, steps), name=f"retrain-{job.job_id}")
    proc.start()
    last = None
    try:
        while last not in ENDS and (got := await asyncio.to_thread(_next, steps, proc)) is not None:
            last = got["kind"]
            yield got
    finally:
        await asyncio.to_thread(proc.join)
    if last not in ENDS:
        yield step("failed", f"the retrain process ended with exit status {proc.exitcode}", 0.0)
