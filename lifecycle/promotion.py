"""Promotion through the validation gate: a registered version is scored against the
active one on the latest sessions of the data folder and made active only if it is no
worse (GATE_*). The gate's backtests are CPU work: callers on an event loop get them in
a thread, and forecasts keep flowing."""
import asyncio
from pathlib import Path

from features.data import load
from lifecycle.settings import LifecycleSettings
from lifecycle.store import active, artifact_path, promote, verified
from tft.artifact import load as load_artifact
from tft.gate import compare


def _gate(settings: LifecycleSettings, data_dir: Path, candidate: Path, current: Path | None) -> dict:
    return compare(load(data_dir), load_artifact(candidate), load_artifact(current) if current else None,
                   settings.gate)


async def promote_checked(settings: LifecycleSettings, version: str, *, by: str, reason: str, source: str,
                          force: bool = False, data_dir: Path | None = None) -> dict:
    """Gate a registered `version` against the active one (unless forced) and promote it
    if it passed: the registry's record, with `promoted` false when the gate refused it.
    ModelNotRegistered when `version` is not registered."""
    url = settings.persistence.database_url
    candidate = await artifact_path(url, version)
    gate = None
    if not force:
        current = await active(url)
        gate = await asyncio.to_thread(_gate, settings, data_dir or settings.data_dir, candidate,
                                       verified(current) if current else None)
    return await promote(url, version, gate, by, reason, source)
