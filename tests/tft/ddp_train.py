"""One small training run, under torchrun or alone (tests/tft/test_distributed.py).

    python -m torch.distributed.run --standalone --nproc-per-node 2 tests/tft/ddp_train.py OUT DATA_DIR
"""
import sys
from pathlib import Path

from features.data import MarketData, load, select
from tft.config import TFTConfig
from tft.train import TrainConfig, train

SYMBOLS = ["SPY", "AAPL", "TLT"]

if __name__ == "__main__":
    out, data_dir = Path(sys.argv[1]), sys.argv[2]
    data = load(data_dir)
    data = MarketData(select(data.panel, SYMBOLS, "2012-01-01", "2016-12-31"),
                      select(data.context, ["VIX", "DFF"], "2012-01-01", "2016-12-31"))
    config = TrainConfig(end="2016-12-30", start="2013-01-01", epochs=2, batches_per_epoch=3, batch_size=16,
                         validation_samples=64, patience=5)
    # no dropout: each process would draw its own masks, and the runs could not be compared
    train(data, out, TFTConfig(hidden_size=8, num_heads=1, variable_size=4, dropout=0.0), config, progress=False)
