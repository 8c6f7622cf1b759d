import shutil

import pytest

from inference.config import InferenceConfig
from inference.models import DEFAULT_ARTIFACT, TFTForecaster
from persistence.repositories.model_registry import ModelNotRegistered
from stream.registry import artifact_path, register, serving
from tests.services import fresh_database

pytestmark = pytest.mark.integration


async def test_a_registered_model_is_found_by_its_version():
    async with fresh_database() as url:
        art = await register(url, DEFAULT_ARTIFACT)
        assert await artifact_path(url, art.version) == DEFAULT_ARTIFACT.resolve()
        assert await artifact_path(url, "default") == DEFAULT_ARTIFACT
        with pytest.raises(ModelNotRegistered, match="tft-1999"):
            await artifact_path(url, "tft-1999-01-01-nope")


async def test_a_worker_serves_a_registered_version_from_its_own_file(tmp_path):
    copy = tmp_path / "promoted.pt"
    shutil.copy(DEFAULT_ARTIFACT, copy)
    async with fresh_database() as url:
        art = await register(url, copy)
        config = await serving(url, InferenceConfig(model=art.version, max_batch=8))
        assert config.model == str(copy.resolve()) and config.max_batch == 8
        assert TFTForecaster(config.model).version == art.version
        assert (await serving(url, InferenceConfig(model="baseline"))).model == "baseline"
        with pytest.raises(ModelNotRegistered):
            await serving(url, InferenceConfig(model="tft-1999-01-01-nope"))
