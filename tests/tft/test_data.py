"""Training's batches, gathered by index from a Panel built once, are the windows that
make_inputs cuts for backtests and the service, to the bit."""
import numpy as np
import torch

from features.catalog import NAMES, OBSERVED
from features.data import load
from features.scaling import Scaler
from tft.config import TFTConfig
from tft.data import InputSpec, Panel, make_inputs, market_series, sample_days, targets


def test_a_gathered_batch_is_make_inputs_on_the_same_samples_to_the_bit(data_dir):
    # symbols listed at different times (NVDA from 1999), so the series differ in length
    series = market_series(load(data_dir), "2023-12-29", ["SPY", "NVDA", "TLT", "JPM"])
    c = TFTConfig()
    spec = InputSpec(tuple(s.symbol for s in series), c.encoder_length, c.decoder_length, c.horizons,
                     OBSERVED[::2])  # as a pruned model reads: a subset of the features
    scaler = Scaler.fit(np.concatenate([s.features for s in series]), NAMES)
    idx = sample_days(series, spec, None, None, need_target=True)
    idx = idx[np.random.default_rng(0).choice(len(idx), 300, replace=False)]
    inputs, y = Panel(series, spec, scaler).batch(idx)
    want, scales = make_inputs(series, idx, spec, scaler)
    for name in vars(want):
        assert torch.equal(getattr(inputs, name), getattr(want, name)), name
    y_want = np.stack([targets(series[s].close, spec.horizons)[t] for s, t in idx]) / scales
    assert torch.equal(y, torch.from_numpy(y_want.astype(np.float32)))
    assert len({int(s) for s, _ in idx}) == 4  # every series took part
