"""Model versions: registered into the artifact store, promoted, rolled back, and found
by the workers that serve them (the gate in front of promotion: lifecycle/promotion.py).

The store is a folder (`TFT_MODEL_STORE`): a registered artifact is copied there as
`<version>.pt`, with its regime model beside it, and recorded in model_registry with
its sha256, so that every worker loads the same bytes and refuses other ones.
"""
import asyncio
import hashlib
import shutil
from dataclasses import replace
from datetime import date
from pathlib import Path

from inference.config import InferenceConfig
from inference.dependence import path_beside as dependence_path
from inference.models import DEFAULT_ARTIFACT, regime_path, resolve_artifact
from lifecycle.settings import LifecycleSettings
from persistence.migrate import migrated
from persistence.repositories.command_audit import CommandAuditRepository
from persistence.repositories.model_registry import ModelRegistryRepository, RegisteredModel
from tft.artifact import Artifact, load
from tft.export import onnx_path


class ChecksumMismatch(ValueError):
    pass


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        while chunk := f.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def stored(path: Path, store: Path, version: str) -> Path:
    """The artifact copied into the store (with its regime model and its ONNX graph, if it
    has them)."""
    store.mkdir(parents=True, exist_ok=True)
    target = store / f"{version}.pt"
    if path.resolve() != target.resolve():
        shutil.copyfile(path, target)
        for sidecar in (regime_path, onnx_path, dependence_path):
            if sidecar(path).is_file():
                shutil.copyfile(sidecar(path), sidecar(target))
    return target


async def register(database_url: str, path: Path, store: Path) -> Artifact:
    art = load(path)
    target = stored(path, store, art.version)
    async with migrated(database_url) as conn:
        await ModelRegistryRepository(conn).register(
            version=art.version, kind="tft", path=str(target.resolve()),
            config={"hidden_size": art.config.hidden_size, "encoder_length": art.config.encoder_length,
                    "horizons": list(art.config.horizons)},
            metrics=art.meta.get("metrics", {}), train_start=date.fromisoformat(art.meta["train_range"][0]),
            train_end=date.fromisoformat(art.meta["validation_range"][1]), git_commit=art.meta.get("git_commit"),
            checksum=sha256(target))
    return art


def verified(model: RegisteredModel) -> Path:
    """The active version's file, after checking it is the file that was registered."""
    path = Path(model.path)
    if model.checksum is not None and sha256(path) != model.checksum:
        raise ChecksumMismatch(f"{path} is not the artifact registered as {model.version}")
    return path


async def active(database_url: str) -> RegisteredModel | None:
    async with migrated(database_url) as conn:
        return await ModelRegistryRepository(conn).active()


async def promote(database_url: str, version: str, gate: dict | None, by: str, reason: str,
                  source: str = "cli") -> dict:
    """Records the gate's figures; `version` becomes active if it passed (or no gate ran:
    forced). Audited, accepted or refused."""
    async with migrated(database_url) as conn, conn.transaction():
        repo = ModelRegistryRepository(conn)
        passed = gate is None or gate["passed"]
        why = reason if gate is None else f"{reason}; gate: {gate['reason']}"
        if gate is not None:
            await repo.record_gate(version=version, validation=gate, reason=why)
        replaced = await repo.promote(version=version, by=by, reason=why) if passed else None
        await CommandAuditRepository(conn).insert(
            command="promote", actor=by, source=source, params={"version": version, "forced": gate is None},
            status="accepted" if passed else "refused", reason=why)
    return {"version": version, "promoted": passed, "replaced": replaced, "reason": why, "gate": gate}


async def rollback(database_url: str, by: str, reason: str, source: str = "cli",
                   expected: str | None = None) -> dict:
    async with migrated(database_url) as conn, conn.transaction():
        retired, restored = await ModelRegistryRepository(conn).rollback(by=by, reason=reason, expected=expected)
        await CommandAuditRepository(conn).insert(command="rollback", actor=by, source=source,
                                                  params={"retired": retired, "restored": restored},
                                                  status="accepted", reason=reason)
    return {"retired": retired, "active": restored}


async def artifact_path(database_url: str, model: str, default: Path = DEFAULT_ARTIFACT) -> Path:
    """'default' (the file `default`), a file, or else a version registered in model_registry."""
    if model == "default" or Path(model).is_file():
        return resolve_artifact(model, default)
    async with migrated(database_url) as conn:
        return Path((await ModelRegistryRepository(conn).get(version=model)).path)


async def serving(database_url: str, config: InferenceConfig) -> InferenceConfig:
    """The inference config a worker serves with: the registry's active version once one
    is promoted; before that TFT_MODEL, a registry version becoming its artifact path
    ('baseline', 'default' and paths stay as they are)."""
    if config.model == "baseline":
        return config
    if (current := await active(database_url)) is not None:
        return replace(config, model=str(verified(current)))
    return replace(config, model=str(await artifact_path(database_url, config.model, config.default_artifact)))


def artifact_path_of(settings: LifecycleSettings, model: str) -> Path:
    """`artifact_path` for a caller with no event loop (the command line, a retrain's process)."""
    return asyncio.run(artifact_path(settings.persistence.database_url, model, settings.inference.default_artifact))
