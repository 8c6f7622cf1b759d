import pytest

from inference.models import DEFAULT_ARTIFACT
from persistence.repositories.model_registry import ModelNotRegistered
from stream.registry import artifact_path, register
from tests.services import fresh_database

pytestmark = pytest.mark.integration


async def test_a_registered_model_is_found_by_its_version():
    async with fresh_database() as url:
        art = await register(url, DEFAULT_ARTIFACT)
        assert await artifact_path(url, art.version) == DEFAULT_ARTIFACT.resolve()
        assert await artifact_path(url, "default") == DEFAULT_ARTIFACT
        with pytest.raises(ModelNotRegistered, match="tft-1999"):
            await artifact_path(url, "tft-1999-01-01-nope")
