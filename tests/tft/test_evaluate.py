"""The scorer against baselines it can be checked with: the random walk scored as a
model must tie with itself, and a report is written with its plots."""
import numpy as np
import pandas as pd
from scipy.stats import norm

from features.data import load_panel
from schemas import QUANTILES
from tft.backtest import COLUMNS
from tft.evaluate import LEVELS, QCOLS, attach_outcomes, evaluate, random_walk_quantiles, score
from tft.report import write_report


def test_the_backtest_file_keeps_its_columns_and_the_model_the_contract_levels():
    """The CSV's quantile columns are derived from the model's default levels: they must stay
    the names its readers know, and those levels the ones every served forecast carries."""
    assert LEVELS == QUANTILES
    assert COLUMNS == ["symbol", "date", "horizon", "close", "point", "q10", "q25", "q50", "q75", "q90", "p_up", "vol"]
    assert QCOLS == COLUMNS[5:10]
    q = random_walk_quantiles(np.array([0.01, 0.02]))  # (N, Q)
    assert q.shape == (2, len(LEVELS)) and np.allclose(q[:, LEVELS.index(0.5)], 0)
    assert np.allclose(q[1], 2 * q[0]) and np.all(np.diff(q, axis=1) > 0)


def random_walk_backtest(panel: pd.DataFrame, start: str) -> pd.DataFrame:
    """A backtest file whose forecasts are the random walk itself, from real closes."""
    rows = []
    for symbol, g in panel.groupby("symbol"):
        r = np.log(g["close"]).diff()
        sigma = r.rolling(63).std()
        for h in (1, 5):
            q = np.exp(np.outer(sigma * np.sqrt(h), norm.ppf(LEVELS)))
            d = pd.DataFrame({"symbol": symbol, "date": g["date"], "horizon": h, "close": g["close"],
                              "point": g["close"], "p_up": 0.5, "vol": sigma * np.sqrt(h)})
            for j, name in enumerate(["q10", "q25", "q50", "q75", "q90"]):
                d[name] = g["close"].values * q[:, j]
            rows.append(d[d["date"] >= start])
    return pd.concat(rows, ignore_index=True).dropna()


def test_the_random_walk_ties_with_itself_and_base_rates_are_the_data(data_dir, tmp_path):
    panel = load_panel(data_dir, ["SPY", "TLT"], start="2021-01-01", end="2023-12-29")
    df = attach_outcomes(random_walk_backtest(panel, "2022-01-03"), panel)
    by_h = evaluate(df, "horizon")
    assert list(by_h["horizon"]) == [1, 5]
    for row in by_h.itertuples():
        assert abs(row.pinball - row.rw_pinball) < 1e-9 and abs(row.pinball_skill) < 1e-6
        assert row.cover_68 == row.rw_cover_68 and row.cover_95 == row.rw_cover_95
        assert 0.5 < row.cover_68 < 0.85 and 0.88 < row.cover_95 < 1
        assert row.rmse == row.rw_rmse  # the point is today's close
    one = df[df["horizon"] == 1]
    assert score(one)["always_up_acc"] == (one["y"] > 0).mean()
    assert len(one) == 2 * 501 - 2  # two symbols, 2022-2023 origins with a next close
    path = write_report(df, tmp_path, "random walk")
    assert "## By horizon" in path.read_text()
    assert (tmp_path / "calibration.png").stat().st_size > 10_000


def test_the_report_splits_by_each_regime_column_the_rows_carry(data_dir, tmp_path):
    panel = load_panel(data_dir, ["SPY", "TLT"], start="2021-01-01", end="2023-12-29")
    df = attach_outcomes(random_walk_backtest(panel, "2022-01-03"), panel)
    calm = df["date"] < "2023-01-01"
    df = df.assign(symbol_regime=np.where(calm, "Crisis", "Bull"), market_regime="Bear")
    text = write_report(df, tmp_path, "random walk").read_text()
    own = text.split("## By the symbol's own regime (HMM)")[1].split("##")[0]
    assert "| Crisis |" in own and "| Bull |" in own
    assert "## By the market's regime (HMM on SPY)" in text and "## By VIX regime" not in text
    by = evaluate(df, "symbol_regime")
    assert by[by["horizon"] == 1].set_index("symbol_regime")["n"].sum() == (df["horizon"] == 1).sum()
