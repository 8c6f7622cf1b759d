"""Model artifacts by path or by registry version (the model_registry table)."""
from dataclasses import replace
from datetime import date
from pathlib import Path

from inference.config import InferenceConfig
from inference.models import resolve_artifact
from persistence.migrate import migrated
from persistence.repositories.model_registry import ModelRegistryRepository
from tft.artifact import Artifact, load


async def register(database_url: str, path: Path) -> Artifact:
    art = load(path)
    async with migrated(database_url) as conn:
        await ModelRegistryRepository(conn).register(
            version=art.version, kind="tft", path=str(path.resolve()),
            config={"hidden_size": art.config.hidden_size, "encoder_length": art.config.encoder_length,
                    "horizons": list(art.config.horizons)},
            metrics=art.meta.get("metrics", {}), train_start=date.fromisoformat(art.meta["train_range"][0]),
            train_end=date.fromisoformat(art.meta["validation_range"][1]), git_commit=art.meta.get("git_commit"))
    return art


async def artifact_path(database_url: str, model: str) -> Path:
    """'default', a file, or else a version registered in model_registry."""
    if model == "default" or Path(model).is_file():
        return resolve_artifact(model)
    async with migrated(database_url) as conn:
        return Path((await ModelRegistryRepository(conn).get(version=model)).path)


async def serving(database_url: str, config: InferenceConfig) -> InferenceConfig:
    """The inference config a worker serves with: TFT_MODEL as a registry version becomes
    that version's artifact path; 'baseline', 'default' and paths stay as they are."""
    if config.model == "baseline":
        return config
    return replace(config, model=str(await artifact_path(database_url, config.model)))
