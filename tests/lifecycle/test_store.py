import asyncpg
import pytest

from inference.config import InferenceConfig
from inference.models import DEFAULT_ARTIFACT, TFTForecaster
from persistence.repositories.model_registry import LifecycleError, ModelNotRegistered
from lifecycle.store import ChecksumMismatch, artifact_path, promote, register, rollback, serving, sha256
from tests.models import variant
from tests.services import fresh_database

pytestmark = pytest.mark.integration


async def test_a_registered_model_is_copied_into_the_store_and_found_by_its_version(tmp_path):
    async with fresh_database() as url:
        art = await register(url, DEFAULT_ARTIFACT, tmp_path / "store")
        stored = tmp_path / "store" / f"{art.version}.pt"
        assert await artifact_path(url, art.version) == stored.resolve()
        assert sha256(stored) == sha256(DEFAULT_ARTIFACT)
        assert stored.with_suffix(".regime.json").is_file()  # the regime model travels with it
        assert TFTForecaster(stored, runtime="auto").runtime == "onnx"  # and so does its ONNX graph
        assert await artifact_path(url, "default") == DEFAULT_ARTIFACT
        with pytest.raises(ModelNotRegistered, match="tft-1999"):
            await artifact_path(url, "tft-1999-01-01-nope")


async def test_a_worker_serves_the_active_version_and_refuses_other_bytes(tmp_path):
    async with fresh_database() as url:
        art = await register(url, DEFAULT_ARTIFACT, tmp_path / "store")
        config = await serving(url, InferenceConfig(model=art.version, max_batch=8))
        assert config.model == str((tmp_path / "store" / f"{art.version}.pt").resolve()) and config.max_batch == 8
        assert TFTForecaster(config.model).version == art.version
        assert (await serving(url, InferenceConfig(model="baseline"))).model == "baseline"
        with pytest.raises(ModelNotRegistered):
            await serving(url, InferenceConfig(model="tft-1999-01-01-nope"))
        # once a version is active it is served whatever TFT_MODEL says, and only its own bytes
        await promote(url, art.version, None, "test", "first")
        assert (await serving(url, InferenceConfig(model="default"))).model == config.model
        with open(config.model, "ab") as f:
            f.write(b"tampered")
        with pytest.raises(ChecksumMismatch):
            await serving(url, InferenceConfig(model="default"))


async def test_exactly_one_version_is_active_and_a_rollback_walks_back(tmp_path):
    async with fresh_database() as url:
        versions = []
        for name in ("a", "b", "c"):
            path, version = variant(tmp_path, name)
            await register(url, path, tmp_path / "store")
            versions.append(version)
        a, b, c = versions
        assert (await promote(url, a, None, "test", "first"))["replaced"] is None
        assert (await promote(url, b, None, "test", "second"))["replaced"] == a
        assert (await promote(url, c, None, "test", "third"))["replaced"] == b
        with pytest.raises(LifecycleError, match="already active"):
            await promote(url, c, None, "test", "again")
        assert await rollback(url, "test", "c is worse") == {"retired": c, "active": b}
        assert await rollback(url, "test", "b is worse") == {"retired": b, "active": a}
        with pytest.raises(LifecycleError, match="nothing to roll back"):
            await rollback(url, "test", "no predecessor")
        conn = await asyncpg.connect(url)
        try:
            statuses = dict(await conn.fetch("SELECT version, status FROM model_registry"))
        finally:
            await conn.close()
        assert statuses == {a: "active", b: "retired", c: "retired"}
