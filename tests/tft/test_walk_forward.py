import json
from dataclasses import replace

import numpy as np
import pandas as pd
import pytest

from tft import artifact
from tft.backtest import backtest
from tft.config import GateConfig, RetrainConfig
from tft.train import TrainConfig, refit
from tft.walk_forward import Walk, segments, walk

SMALL = (("batches_per_epoch", 3), ("validation_samples", 64))
PLAN = Walk(every=20, kind="incremental", retrain=RetrainConfig(incremental_epochs=1, batch_size=16),
            gate=None, train_fields=SMALL)


def test_segments_cut_the_sessions_in_runs_of_n():
    days = np.arange("2022-01-03", "2022-01-10", dtype="datetime64[D]")
    assert segments(days, 3) == [("2022-01-03", "2022-01-05"), ("2022-01-06", "2022-01-08"),
                                 ("2022-01-09", "2022-01-09")]
    with pytest.raises(ValueError):
        segments(days, 0)


def test_refit_plans_full_from_scratch_and_incremental_from_the_current_weights(tiny_artifact):
    art, _ = tiny_artifact
    r = RetrainConfig(full_epochs=9, incremental_epochs=2, incremental_years=3, incremental_lr=3e-4)
    fresh = replace(art.config, hidden_size=16)
    model_config, config, init = refit("full", "2012-06-29", art, fresh, r)
    assert (model_config, init, config.epochs, config.start) == (fresh, None, 9, "1993-01-01")
    model_config, config, init = refit("incremental", "2012-06-29", art, fresh, r, tag="x")
    assert (model_config, init, config.epochs, config.lr, config.tag) == (art.config, art, 2, 3e-4, "x")
    assert config.start == "2009-06-29" and config.end == "2012-06-29"  # three calendar years
    _, config, _ = refit("incremental", "2012-06-29", art, fresh, replace(r, incremental_years=0))
    assert config.start == TrainConfig(end="2012-06-29").start  # every year: the window expands
    with pytest.raises(ValueError):
        refit("partial", "2012-06-29", art, fresh, r)


def test_a_walk_retrains_between_segments_and_resumes_without_redoing_them(tiny_artifact, small_data, tmp_path,
                                                                           monkeypatch):
    art, _ = tiny_artifact
    folder = tmp_path / "walk"
    df = walk(small_data, art, "2011-01-03", "2011-02-28", None, PLAN, folder, progress=False)
    sessions = np.unique(small_data.panel["date"].values.astype("datetime64[D]"))
    sessions = sessions[(sessions >= np.datetime64("2011-01-03")) & (sessions <= np.datetime64("2011-02-28"))]
    assert len(sessions) > 20 and set(df["date"].values.astype("datetime64[D]")) == set(sessions)
    first, second = sessions[:20], sessions[20:]
    by_model = df.groupby("model")["date"].agg(["min", "max"])
    assert by_model.loc[art.version].tolist() == [pd.Timestamp(first[0]), pd.Timestamp(first[-1])]

    retrained = artifact.load(folder / "model-001.pt")
    assert retrained.version != art.version and retrained.version.endswith("walk001")
    assert by_model.loc[retrained.version].tolist() == [pd.Timestamp(second[0]), pd.Timestamp(second[-1])]
    # walk-forward: retrained on data to the session before the segment it forecasts
    assert retrained.meta["validation_range"][1] == str(first[-1])
    assert retrained.meta["train_config"]["epochs"] == 1
    # incremental: it started from the walk's model, so its weights moved only a little from them
    moved = [(a - b).abs().max().item() for a, b in zip(retrained.model.state_dict().values(),
                                                        art.model.state_dict().values())]
    assert 0 < max(moved) < 0.1

    # each segment is what a plain backtest of its model gives on its days
    for model, days in ((art, first), (retrained, second)):
        alone = backtest(small_data, model, str(days[0]), str(days[-1]), progress=False)
        mine = df[df["model"] == model.version].drop(columns="model").reset_index(drop=True)
        pd.testing.assert_frame_equal(mine, alone, rtol=1e-5, check_dtype=False)

    # resuming trains nothing that was trained, and forecasts only the segment that is missing
    def no_training(*a, **k):
        raise AssertionError("a finished segment's model was trained again")
    monkeypatch.setattr("tft.walk_forward.train", no_training)
    (folder / "segment-001.csv").unlink()
    again = walk(small_data, art, "2011-01-03", "2011-02-28", None, PLAN, folder, progress=False)
    pd.testing.assert_frame_equal(again, df)

    with pytest.raises(ValueError, match="other settings"):
        walk(small_data, art, "2011-01-03", "2011-02-28", None, replace(PLAN, every=10), folder, progress=False)


def test_a_walk_serves_a_retrained_model_only_if_it_passes_the_gate(tiny_artifact, small_data, tmp_path):
    art, _ = tiny_artifact
    # no candidate's pinball is below 0x the active model's: the gate refuses every one
    refusing = replace(PLAN, gate=GateConfig(sessions=20, pinball_tolerance=-1.0))
    df = walk(small_data, art, "2011-01-03", "2011-02-28", None, refusing, tmp_path, progress=False)
    assert set(df["model"]) == {art.version}
    verdict = json.loads((tmp_path / "gate-001.json").read_text())
    assert not verdict["passed"] and "above the active model's" in verdict["reason"]
    # judged on what was known when it was trained: the gate's window ends before the segment
    assert verdict["window"][1] < "2011-02-01" and verdict["active"] == art.version
    assert (tmp_path / "model-001.pt").is_file()


def test_a_walk_refuses_a_model_that_saw_its_days(tiny_artifact, small_data, tmp_path):
    art, _ = tiny_artifact
    with pytest.raises(ValueError, match="saw data up to 2010-12-31"):
        walk(small_data, art, "2010-12-01", "2011-02-28", None, PLAN, tmp_path, progress=False)
