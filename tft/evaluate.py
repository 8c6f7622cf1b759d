"""Scoring a backtest file against what happened, always beside naive baselines on
the same rows: "always up" for direction, the random walk with rolling volatility for
quantiles and intervals, buy-and-hold for the sign strategy.

All errors are measured on log returns so that symbols of any price level compare.
"""
import numpy as np
import pandas as pd
from scipy.stats import norm

from features import rolling
from tft.config import TFTConfig
from tft.quantiles import quantile_at
from tft.skill import non_overlapping, sign_sharpes

LEVELS = TFTConfig().quantiles  # the levels a backtest's CSV holds: the model's (tft.backtest checks)
QCOLS = [f"q{round(lvl * 100)}" for lvl in LEVELS]  # q10, q25, ...: the CSV's columns of those levels
RW_WINDOW = 63  # the one home of the random walk's volatility window: daily log returns behind its sigma


def attach_outcomes(bt: pd.DataFrame, panel: pd.DataFrame, vix: pd.DataFrame | None = None) -> pd.DataFrame:
    """Adds the realized log return `y`, the random walk's sigma and the VIX regime;
    drops rows whose outcome lies beyond the data."""
    parts = []
    for symbol, g in panel.groupby("symbol"):
        g = g.sort_values("date")
        logc = np.log(g["close"].values)
        r = np.diff(logc, prepend=np.nan)
        sigma = rolling.std(r, RW_WINDOW)
        for h in sorted(bt["horizon"].unique()):
            future = np.full(len(g), np.nan)
            future[:-h] = logc[h:]
            parts.append(pd.DataFrame({"symbol": symbol, "date": g["date"].values, "horizon": h,
                                       "y": future - logc, "rw_sigma": sigma * np.sqrt(h)}))
    truth = pd.concat(parts, ignore_index=True)
    out = bt.assign(date=pd.to_datetime(bt["date"])).merge(truth, on=["symbol", "date", "horizon"])
    if vix is not None:
        v = vix[["date", "close"]].rename(columns={"close": "vix"}).sort_values("date")
        out = pd.merge_asof(out.sort_values("date"), v, on="date")
        out["regime"] = pd.cut(out["vix"], [0, 15, 25, 35, np.inf],
                               labels=["calm (VIX<15)", "normal (15-25)", "stressed (25-35)", "crisis (VIX>35)"])
    return out.dropna(subset=["y", "rw_sigma"]).reset_index(drop=True)


def forecast_log_quantiles(df: pd.DataFrame) -> np.ndarray:
    return np.log(df[QCOLS].values / df["close"].values[:, None])  # (N, Q)


def random_walk_quantiles(sigma: np.ndarray) -> np.ndarray:
    """(N,) the random walk's sigma of the log return -> its Gaussian quantiles (N, Q) at LEVELS."""
    return sigma[:, None] * norm.ppf(LEVELS)[None, :]


def pinball(q: np.ndarray, y: np.ndarray) -> float:
    err = y[:, None] - q
    lv = np.asarray(LEVELS)
    return float(np.maximum(lv * err, (lv - 1) * err).mean())


def score(df: pd.DataFrame) -> dict[str, float]:
    """Every metric for one group of rows (one horizon, symbol or regime)."""
    y = df["y"].values
    close = df["close"].values
    q = forecast_log_quantiles(df)
    point = np.log(df["point"].values / close)
    rw_q = random_walk_quantiles(df["rw_sigma"].values)
    up = (y > 0).astype(float)
    base_rate = up.mean()
    out = {
        "n": len(df),
        "dir_acc": float(np.mean(np.sign(point) == np.sign(y))),
        "always_up_acc": float(base_rate),
        "mape_pct": float(np.mean(np.abs(df["point"].values / (close * np.exp(y)) - 1)) * 100),
        "rw_mape_pct": float(np.mean(np.abs(np.exp(-y) - 1)) * 100),
        "rmse": float(np.sqrt(np.mean((point - y) ** 2))),
        "rw_rmse": float(np.sqrt(np.mean(y ** 2))),
        "pinball": pinball(q, y),
        "rw_pinball": pinball(rw_q, y),
        "brier": float(np.mean((df["p_up"].values - up) ** 2)),
        "base_rate_brier": float(np.mean((base_rate - up) ** 2)),
    }
    for nominal in (0.68, 0.95):
        lo, hi = (1 - nominal) / 2, (1 + nominal) / 2
        b = quantile_at([lo, hi], LEVELS, q)
        rb = quantile_at([lo, hi], LEVELS, rw_q)
        out[f"cover_{int(nominal * 100)}"] = float(np.mean((b[:, 0] <= y) & (y <= b[:, 1])))
        out[f"rw_cover_{int(nominal * 100)}"] = float(np.mean((rb[:, 0] <= y) & (y <= rb[:, 1])))
    out["pinball_skill"] = 1 - out["pinball"] / out["rw_pinball"]  # > 0: beats the random walk
    out |= sharpe(df, point)
    return out


def sharpe(df: pd.DataFrame, point: np.ndarray) -> dict[str, float]:
    """Sign strategy (long if the point forecast is up, short if down), on origins h
    sessions apart so that holding periods do not overlap; beside buy-and-hold."""
    h = int(df["horizon"].iloc[0])
    d = non_overlapping(df.assign(pos=np.sign(point)), h)
    strategy, hold = sign_sharpes(d["pos"].values, d["y"].values, h)
    return {"sharpe": strategy, "buy_hold_sharpe": hold}


def evaluate(df: pd.DataFrame, by: str) -> pd.DataFrame:
    """One row of metrics per value of `by` (horizon, symbol or regime) and horizon."""
    keys = ["horizon"] if by == "horizon" else [by, "horizon"]
    return pd.DataFrame([{**dict(zip(keys, k if isinstance(k, tuple) else (k,))), **score(g)}
                         for k, g in df.groupby(keys, observed=True) if len(g) > 1])
