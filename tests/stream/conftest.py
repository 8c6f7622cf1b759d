import shutil
import uuid

import pytest

from tests.workers import SEED_SYMBOLS, Kafka, new_worker, seed_bars


@pytest.fixture(scope="session")
async def worker(tmp_path_factory, database_url, data_dir):
    w = new_worker(tmp_path_factory.mktemp("worker"), uuid.uuid4().hex[:8], database_url)
    w.start()
    await seed_bars(data_dir, [w], SEED_SYMBOLS)
    yield w
    w.stop()
    shutil.rmtree(w.state_dir, ignore_errors=True)


@pytest.fixture
async def kafka():
    k = Kafka()
    await k.start()
    yield k
    await k.stop()
