"""CUDA graphs for serving (tft/graphs.py), what of them the CPU can check: the buckets,
and that padding a batch to its bucket changes none of its own rows' outputs, which is
what lets one graph per bucket serve every batch size up to it."""
from dataclasses import fields

import numpy as np
import pytest
import torch

from inference.models import DEFAULT_ARTIFACT, TFTForecaster
from tft.artifact import load
from tft.data import make_inputs, series_from_window
from tft.graphs import GraphedModel, bucket, padded
from tft.model import TFTOutput
from tft.predict import forward
from tests.helpers import NO_CONTEXT, window_of


def test_a_batch_goes_to_the_smallest_bucket_that_holds_it():
    assert [bucket(n) for n in (1, 2, 3, 5, 64, 65, 1024)] == [1, 2, 4, 8, 64, 128, 1024]
    assert bucket(1025) is None  # beyond the last: run eagerly
    assert bucket(7, (4, 16)) == 16


def test_padding_to_the_bucket_leaves_the_batchs_own_outputs_as_they_were(panel):
    art = load(DEFAULT_ARTIFACT)
    series = [series_from_window(window_of(panel, s, end, 400), NO_CONTEXT)
              for s in ("SPY", "AAPL", "TLT", "XLF") for end in ("2020-03-16", "2023-12-29")][:5]
    idx = np.array([[i, len(s.dates) - 1] for i, s in enumerate(series)])
    inputs, _ = make_inputs(series, idx, art.spec, art.scaler)
    grown = padded(inputs, bucket(5))
    assert grown.static.shape[0] == 8 and torch.equal(grown.observed[5], inputs.observed[0])
    alone, among = forward(art.model, inputs), forward(art.model, grown)
    for f in fields(TFTOutput):
        a, b = getattr(alone, f.name), getattr(among, f.name)[:5]
        assert torch.allclose(a, b, atol=1e-6, rtol=0), f.name


def test_graphs_are_refused_without_a_gpu():
    with pytest.raises(ValueError, match="CUDA device"):
        GraphedModel(load(DEFAULT_ARTIFACT).model)
    with pytest.raises(ValueError, match="CUDA device"):
        TFTForecaster(DEFAULT_ARTIFACT, runtime="torch", cuda_graphs=True)
