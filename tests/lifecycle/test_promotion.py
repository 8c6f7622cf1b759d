"""Promotion through the gate as a function (what POST /model/promote and `tft-forecast
promote` call): a version no worse than the active one is promoted, a narrower one is
refused with the gate's figures, a forced one skips it, an unknown one is not registered."""
import pytest

from inference.models import DEFAULT_ARTIFACT
from lifecycle.promotion import promote_checked
from lifecycle.settings import load_lifecycle_settings
from lifecycle.store import active, register
from persistence.repositories.model_registry import ModelNotRegistered
from tests.models import variant
from tests.services import fresh_database

pytestmark = pytest.mark.integration


async def test_the_gate_lets_an_equal_version_through_and_refuses_a_narrower_one(tmp_path, data_dir):
    narrow, _ = variant(tmp_path, "narrow", 0.4)
    same, _ = variant(tmp_path, "same", 1.0)
    async with fresh_database() as url:
        settings = load_lifecycle_settings({"DATABASE_URL": url, "MARKET_DATA_DIR": str(data_dir),
                                            "GATE_SYMBOLS": "SPY,TLT", "GATE_SESSIONS": "21"})
        store = tmp_path / "store"
        first = (await register(url, DEFAULT_ARTIFACT, store)).version
        forced = await promote_checked(settings, first, by="test", reason="first", source="cli", force=True)
        assert forced["promoted"] and forced["gate"] is None
        refused = await promote_checked(settings, (await register(url, narrow, store)).version, by="test",
                                        reason="narrow", source="cli")
        assert not refused["promoted"] and "coverage" in refused["gate"]["reason"]
        passed = await promote_checked(settings, (await register(url, same, store)).version, by="test",
                                       reason="same", source="cli")
        assert passed["promoted"] and passed["replaced"] == first, passed["gate"]["reason"]
        assert (await active(url)).version == passed["version"]
        with pytest.raises(ModelNotRegistered):
            await promote_checked(settings, "tft-1999-nope", by="test", reason="?", source="cli")
