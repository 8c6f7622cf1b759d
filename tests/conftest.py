import os
from pathlib import Path

import pandas as pd
import pytest
import redis.asyncio as redis

from features.data import load_panel
from tests.services import fresh_database, redis_settings

ROOT = Path(__file__).resolve().parents[1]
DATA_DIR = Path(os.environ.get("MARKET_DATA_DIR", ROOT.parent / "shared" / "data"))


@pytest.fixture(scope="session")
def data_dir() -> Path:
    if not DATA_DIR.exists():
        pytest.fail(f"market data folder {DATA_DIR} is missing; set MARKET_DATA_DIR")
    return DATA_DIR


@pytest.fixture(scope="session")
def panel(data_dir) -> pd.DataFrame:
    """Real daily bars of a few symbols, 2015-2023."""
    return load_panel(data_dir, ["SPY", "AAPL", "TLT", "XLF"], start="2015-01-01")


@pytest.fixture(scope="session")
async def database_url():
    """A database of this test session's own on the server `make test` runs."""
    async with fresh_database() as url:
        yield url


@pytest.fixture
async def redis_client():
    host, port, db = redis_settings()
    client = redis.Redis(host=host, port=port, db=db)
    await client.flushdb()
    yield client
    await client.flushdb()
    await client.aclose()
