import pytest

from features.data import load_panel


@pytest.fixture(scope="session")
def panel_spy_long(data_dir):
    return load_panel(data_dir, ["SPY"])
