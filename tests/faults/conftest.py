import shutil

import pytest

from tests.faults.kit import Services
from tests.workers import Kafka


@pytest.fixture(scope="session")
def services():
    """One private broker, PostgreSQL and Redis for every fault module: starting them
    takes half a minute, and each test leaves them running as it found them."""
    s = Services()
    s.call("up")
    yield s
    s.call("down")
    shutil.rmtree(s.run_dir, ignore_errors=True)


@pytest.fixture
async def kafka(services):
    k = Kafka(services.bootstrap)
    await k.start()
    yield k
    await k.stop()
