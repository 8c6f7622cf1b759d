from dataclasses import replace

import numpy as np
import pandas as pd
import torch

from features.cross_asset import Context
from tft import artifact
from tft.backtest import COLUMNS, backtest
from tft.data import make_inputs, panel_series, sample_days


def test_artifact_records_a_walk_forward_split_and_reloads_identically(tiny_artifact, small_data):
    art, path = tiny_artifact
    train_end = np.datetime64(art.meta["train_range"][1])
    val_start, val_end = map(np.datetime64, art.meta["validation_range"])
    assert train_end < val_start and str(val_end) == "2010-12-31"
    assert len(art.meta["history"]) >= 1 and art.meta["git_commit"]
    # the scaler saw training dates only: refit on rows before the validation year
    bars = small_data.all_bars()
    series = panel_series(bars[bars["symbol"].isin(["SPY", "JPM", "XLF"]) & (bars["date"] <= "2010-12-31")],
                          Context.from_bars(bars[bars["date"] <= "2010-12-31"]))
    rows = np.concatenate([s.features[s.dates < val_start] for s in series])
    from features.scaling import Scaler
    np.testing.assert_allclose(Scaler.fit(rows, art.scaler.names).center, art.scaler.center)

    again = artifact.load(path)
    idx = sample_days(series, art.spec, val_start, val_end, need_target=False)[:8]
    x, _ = make_inputs(series, idx, art.spec, art.scaler)
    with torch.no_grad():
        torch.testing.assert_close(again.model(x).quantiles, art.model(x).quantiles)


def test_backtest_rows_and_no_look_ahead(tiny_artifact, small_data):
    art, _ = tiny_artifact
    full = backtest(small_data, art, "2011-03-01", "2011-03-10", progress=False)
    assert list(full.columns) == COLUMNS
    assert set(full["horizon"]) == set(art.spec.horizons)
    q = full[["q10", "q25", "q50", "q75", "q90"]].values
    assert (np.diff(q, axis=1) > 0).all() and (full["close"] > 0).all()
    # forecasting 2011-03-04 from data cut at that day gives the same numbers
    cut = type(small_data)(panel=small_data.panel[small_data.panel["date"] <= "2011-03-04"],
                           context=small_data.context[small_data.context["date"] <= "2011-03-04"])
    day = pd.Timestamp("2011-03-04")
    truncated = backtest(cut, art, "2011-03-04", "2011-03-04", progress=False)
    expected = full[full["date"] == day].reset_index(drop=True)
    pd.testing.assert_frame_equal(truncated.reset_index(drop=True), expected, rtol=1e-5)


def test_intervals_are_calibrated_on_the_validation_year_and_served_with_the_model(tiny_artifact, small_data):
    art, _ = tiny_artifact
    info, Z = art.meta["calibration"], len(art.spec.horizons)
    assert info["range"] == art.meta["validation_range"] and art.calibration.shape == (Z, 5)
    # on the year they were fitted on, the 80% and 50% intervals cover just that
    np.testing.assert_allclose(info["coverage_after"], [[0.8, 0.5]] * Z, atol=0.02)
    calibrated = backtest(small_data, art, "2011-03-01", "2011-03-04", progress=False)
    raw = backtest(small_data, replace(art, calibration=None), "2011-03-01", "2011-03-04", progress=False)
    np.testing.assert_allclose(calibrated["q50"], raw["q50"], rtol=1e-6)
    for z, h in enumerate(art.spec.horizons):
        c, r = calibrated[calibrated["horizon"] == h], raw[raw["horizon"] == h]
        for col, j in (("q10", 0), ("q25", 1), ("q75", 3), ("q90", 4)):
            np.testing.assert_allclose(np.log(c[col] / c["q50"]), art.calibration[z, j] * np.log(r[col] / r["q50"]),
                                       rtol=1e-4, atol=1e-7)
