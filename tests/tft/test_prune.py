"""Importance-based pruning: a model trained on a subset reads only those features,
everywhere its inputs are cut; the ranking comes from the model's validation year; the
smallest set no worse at every horizon is kept, else all."""
from dataclasses import replace

import numpy as np
import pandas as pd
import pytest
import torch

from features.catalog import KNOWN, OBSERVED
from inference.config import InferenceConfig
from inference.models import TFTForecaster
from inference.service import ForecastService
from schemas import ForecastRequest
from tests.helpers import NO_CONTEXT, window_of
from tft import artifact
from tft.backtest import backtest
from tft.config import RetrainConfig
from tft.config_file import read
from tft.data import make_inputs, market_series, sample_days
from tft.prune import PruneConfig, _verdict, prune, rank
from tft.train import TrainConfig, observed_features, refit, train

FEW = ("ret_1", "rv_21", "rsi_14", "vix_level")


@pytest.fixture(scope="module")
def few(small_data, tiny_artifact, tmp_path_factory):
    art, _ = tiny_artifact
    out = tmp_path_factory.mktemp("few") / "few.pt"
    cfg = TrainConfig(**{**art.meta["train_config"], "features": FEW[::-1]})
    return train(small_data, out, art.config, cfg, progress=False), out


def test_a_model_trained_on_a_subset_reads_only_it(few, small_data):
    art, path = few
    assert art.spec.observed == tuple(n for n in OBSERVED if n in FEW)  # the catalog's order, whatever was asked
    assert art.config.n_observed == len(FEW) and art.spec.input_names == (*art.spec.observed, *KNOWN)
    assert artifact.load(path).spec == art.spec
    series = market_series(small_data, "2011-06-30")
    idx = sample_days(series, art.spec, np.datetime64("2011-01-03"), np.datetime64("2011-01-31"), need_target=False)
    inputs, _ = make_inputs(series, idx, art.spec, art.scaler)
    assert inputs.observed.shape[-1] == len(FEW)
    s = series[idx[0, 0]]
    np.testing.assert_allclose(inputs.observed[0, -1].numpy(),
                               art.scaler.transform(s.features[idx[0, 1]][None, None])[0][0, 0, art.spec.observed_index],
                               rtol=1e-6)
    bt = backtest(small_data, art, "2011-01-03", "2011-01-31", progress=False)
    assert len(bt) and bt[["q10", "q50", "q90"]].notna().all().all()


async def test_a_pruned_model_is_served_and_attends_over_its_own_features(few, panel):
    art, path = few
    svc = ForecastService(TFTForecaster(path), InferenceConfig(max_wait_ms=1))
    w = window_of(panel, "SPY", "2016-12-30", 400)
    result = (await svc.forecast(ForecastRequest(symbol="SPY", include_attention=True), "p1", w, NO_CONTEXT)).result
    assert [f.horizon for f in result.forecasts] == list(art.spec.horizons)
    assert list(result.attention_weights.feature_attention) == [*art.spec.observed, *KNOWN]


def test_an_artifact_from_before_pruning_reads_every_feature(tiny_artifact, tmp_path):
    _, path = tiny_artifact
    blob = torch.load(path, weights_only=True)
    del blob["spec"]["observed"]
    torch.save(blob, tmp_path / "old.pt")
    assert artifact.load(tmp_path / "old.pt").spec.observed == OBSERVED


@pytest.mark.parametrize("names, says", [(("ret_1", "nope"), "nope"), ((KNOWN[0],), KNOWN[0]), ((), "at least one")])
def test_a_feature_list_names_past_only_catalog_features(names, says):
    with pytest.raises(ValueError, match=says):
        observed_features(names)


def test_retrains_keep_the_pruned_features(few):
    art, _ = few
    r = RetrainConfig()
    for kind in ("full", "incremental"):
        _, config, _ = refit(kind, "2012-06-29", art, replace(art.config), r)
        assert config.features == art.spec.observed


def _table(ratios: dict[int, list[float]]) -> pd.DataFrame:
    base = [0.010, 0.020, 0.030]
    return pd.DataFrame([{"features": k, "horizon": h, "pinball": b * r}
                         for k, rs in ratios.items() for h, b, r in zip((1, 5, 10), base, rs)])


RANKING = pd.DataFrame({"feature": list("abcdefgh")})


@pytest.mark.parametrize("ratios, kept", [
    ({8: [1, 1, 1], 2: [0.99, 1.0, 0.98], 4: [0.95, 0.97, 0.99]}, "ab"),  # the smallest that is no worse
    ({8: [1, 1, 1], 2: [0.9, 1.001, 0.9], 4: [0.99, 0.99, 1.0]}, "abcd"),  # worse at one horizon: not kept
    ({8: [1, 1, 1], 2: [0.9, 1.01, 0.9], 4: [1.0, 1.02, 0.99]}, "abcdefgh"),  # none: every feature stays
])
def test_the_smallest_set_no_worse_at_every_horizon_is_kept(ratios, kept):
    features, reason = _verdict(_table(ratios), RANKING, 8, tolerance=0.0)
    assert "".join(features) == kept, reason


def test_prune_ranks_on_the_validation_year_and_writes_a_config_train_reads(tiny_artifact, small_data, tmp_path):
    art, _ = tiny_artifact
    p = prune(small_data, art, tmp_path, PruneConfig(keep=(5,), samples=128))
    assert list(p.ranking["feature"]) == list(rank(small_data, art, 128)["feature"])  # label-free: reproducible
    assert set(p.ranking["feature"]) == set(OBSERVED) and p.ranking["importance"].is_monotonic_decreasing
    top5 = artifact.load(tmp_path / "top-5.pt")
    assert set(top5.spec.observed) == set(p.ranking["feature"].iloc[:5])
    assert top5.meta["validation_range"] == art.meta["validation_range"]
    assert set(p.scores["features"]) == {5, len(OBSERVED)} and set(p.scores["horizon"]) == set(art.spec.horizons)
    assert p.scores["pinball"].gt(0).all()
    _, training = read(tmp_path / "features.yaml")
    assert tuple(training["features"]) == p.kept
    assert (tmp_path / "pruning.png").stat().st_size > 10_000
    with pytest.raises(ValueError, match="1 to"):
        prune(small_data, art, tmp_path, PruneConfig(keep=(len(OBSERVED),)))
