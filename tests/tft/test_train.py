from dataclasses import replace

import numpy as np
import pandas as pd
import torch

from features.calendar import next_sessions
from features.cross_asset import Context
from features.data import find, load
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


def test_backtest_runs_unchanged_on_a_newer_folder_of_the_same_layout(tiny_artifact, data_dir, tmp_path):
    """The same folder with a panel file that reaches into 2024 beside the old one. No real
    bars after 2023 exist here, so the 2024 ones are generated (a 0.1% daily drift): this
    tests plumbing (the newest file is read, new days are forecast), not accuracy."""
    art, _ = tiny_artifact
    newer, data_dir = tmp_path / "data", data_dir.resolve()  # `make test` passes a relative path
    for f in data_dir.rglob("*"):
        if f.is_file():
            (newer / f.relative_to(data_dir)).parent.mkdir(parents=True, exist_ok=True)
            (newer / f.relative_to(data_dir)).symlink_to(f)
    panel = pd.read_csv(find(data_dir, "us_daily_ohlcv_adjusted_"), parse_dates=["date"])
    panel = panel[panel["symbol"].isin(art.spec.symbols) & (panel["date"] >= "2011-01-01")]
    days = next_sessions(np.datetime64("2023-12-29"), 10)
    last = panel[panel["date"] == "2023-12-29"].set_index("symbol")["close"]
    generated = pd.DataFrame([{"date": pd.Timestamp(d), "symbol": s, "open": c * 1.001 ** k,
                               "high": c * 1.001 ** k * 1.005, "low": c * 1.001 ** k * 0.995,
                               "close": c * 1.001 ** (k + 1), "volume": 1e6}
                              for k, d in enumerate(days) for s, c in last.items()])
    pd.concat([panel, generated]).to_csv(newer / "daily" / "us_daily_ohlcv_adjusted_1990_2024.csv.gz", index=False)

    data = load(newer)
    assert data.panel["date"].max() == pd.Timestamp(days[-1])
    bt = backtest(data, art, "2024-01-02", progress=False)
    assert sorted(set(bt["date"])) == [pd.Timestamp(d) for d in days]
    spy = bt[(bt["symbol"] == "SPY") & (bt["horizon"] == 1)]
    np.testing.assert_allclose(spy["close"], last["SPY"] * 1.001 ** np.arange(1, 11), rtol=1e-5)
