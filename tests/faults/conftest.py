import shutil
from pathlib import Path

import pytest

from tests.faults.kit import Services
from tests.workers import Kafka


def pytest_collection_modifyitems(items):
    """`make test` runs the suite in two processes (pytest-xdist, --dist loadgroup); the
    fault tests all run in one of them, since they share one private set of services."""
    here = Path(__file__).parent
    for item in items:
        if here in Path(item.path).parents:
            item.add_marker(pytest.mark.xdist_group("faults"))


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
