import pytest

from features.data import MarketData, load
from tft.config import TFTConfig
from tft.train import TrainConfig, train

SYMBOLS = ["SPY", "JPM", "XLF"]


@pytest.fixture(scope="session")
def small_data(data_dir) -> MarketData:
    """Real bars: three traded symbols with the full context, 1999-2012."""
    data = load(data_dir)
    keep = lambda df: df[(df["date"] >= "1999-01-01") & (df["date"] <= "2012-12-31")]
    panel = keep(data.panel)
    return MarketData(panel=panel[panel["symbol"].isin(SYMBOLS)], context=keep(data.context))


@pytest.fixture(scope="session")
def tiny_artifact(small_data, tmp_path_factory):
    """A small model trained for a few steps: enough to test plumbing, not accuracy."""
    out = tmp_path_factory.mktemp("model") / "tiny.pt"
    cfg = TFTConfig(hidden_size=8, num_heads=2, variable_size=4, encoder_length=20)
    return train(small_data, out, cfg,
                 TrainConfig(end="2010-12-31", epochs=2, batches_per_epoch=3, batch_size=16,
                             validation_samples=64), progress=False), out
