"""Adaptive intervals on a backtest, walked forward as the service would run them: the
scales of inference.conformal learnt day by day from the outcomes known at each close
(a forecast for h sessions settles h sessions after it was made), one set per horizon,
pooled over symbols, starting from 1 (the model's own calibrated intervals) on the
first test day. Scored beside the raw intervals and the random walk's on the same rows.
"""
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.stats import norm

from inference.conformal import GAMMA, LEVELS, AdaptiveScales, intervals, scaled_quantiles
from tft.evaluate import forecast_log_quantiles, pinball, random_walk_quantiles


def adapt(df: pd.DataFrame, gamma: float = GAMMA) -> pd.DataFrame:
    """df: a backtest with outcomes (tft.evaluate.attach_outcomes). Adds the scales served
    on each row's day (`s_50`, `s_68`, `s_80`, `s_95`), learnt only from earlier outcomes."""
    parts = []
    for h, g in df.groupby("horizon"):
        g = g.sort_values(["date", "symbol"]).reset_index(drop=True)
        day = g["date"].rank(method="dense").astype(int).values - 1
        q, y = forecast_log_quantiles(g), g["y"].values
        rows = [np.flatnonzero(day == i) for i in range(day.max() + 1)]
        state, served = AdaptiveScales(gamma), np.ones((len(rows), len(LEVELS)))
        for i in range(len(rows)):
            if i >= h:  # the outcomes of the forecasts made h sessions ago came at this close
                r = rows[i - h]
                lo, hi = intervals(q[r], LEVELS, served[i - h])
                state.update((y[r, None] < lo) | (y[r, None] > hi))
            served[i] = state.scales(LEVELS)
        parts.append(g.assign(**{f"s_{round(c * 100)}": served[day, j] for j, c in enumerate(LEVELS)}))
    return pd.concat(parts, ignore_index=True)


def served(q: np.ndarray, scales: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """q (N, Q) raw log-return quantiles and scales (N, len(LEVELS)), each row's day's ->
    (lo, hi) (N, len(LEVELS)) and the quantiles (N, Q) as they would have been served;
    computed once per set of scales, one set a day."""
    lo, hi = np.empty((len(q), len(LEVELS))), np.empty((len(q), len(LEVELS)))
    adapted = np.empty_like(q)
    for s in np.unique(scales, axis=0):
        at = np.all(scales == s, axis=1)
        lo[at], hi[at] = intervals(q[at], LEVELS, s)
        adapted[at] = scaled_quantiles(q[at], AdaptiveScales(log_scale=np.log(s)))
    return lo, hi, adapted


def adapted_scales(g: pd.DataFrame) -> np.ndarray:
    """(N, len(LEVELS)) the scales each row was served with (columns added by adapt)."""
    return g[[f"s_{round(c * 100)}" for c in LEVELS]].values


def scores(df: pd.DataFrame) -> pd.DataFrame:
    """By horizon: coverage of each central level raw, adapted and the random walk's, the
    adapted width over the random walk's, and pinball loss raw, adapted and the walk's."""
    out = []
    for h, g in df.groupby("horizon"):
        q, y, sigma = forecast_log_quantiles(g), g["y"].values, g["rw_sigma"].values
        row = {"horizon": h, "n": len(g)}
        raw_lo, raw_hi = intervals(q, LEVELS, np.ones(len(LEVELS)))
        lo, hi, adapted_q = served(q, adapted_scales(g))
        for j, c in enumerate(LEVELS):
            z = norm.ppf((1 + c) / 2)
            k = round(c * 100)
            row[f"cov_{k}"] = float(np.mean((y >= raw_lo[:, j]) & (y <= raw_hi[:, j])))
            row[f"adapted_{k}"] = float(np.mean((y >= lo[:, j]) & (y <= hi[:, j])))
            row[f"rw_{k}"] = float(np.mean(np.abs(y) <= z * sigma))
            row[f"width_{k}"] = float(np.mean(hi[:, j] - lo[:, j]) / np.mean(2 * z * sigma))
        row["pinball"] = pinball(q, y)
        row["pinball_adapted"] = pinball(adapted_q, y)
        row["pinball_rw"] = pinball(random_walk_quantiles(sigma), y)
        out.append(row)
    return pd.DataFrame(out)


def plot_coverage(df: pd.DataFrame, path: Path, window: int = 63) -> Path:
    """Rolling coverage over the test days, pooled over symbols, raw and adapted, for the
    68% and 95% intervals at each horizon."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    horizons = sorted(df["horizon"].unique())
    fig, axes = plt.subplots(len(horizons), 1, figsize=(11, 2.6 * len(horizons)), sharex=True)
    for ax, h in zip(np.atleast_1d(axes), horizons):
        g = df[df["horizon"] == h].sort_values("date")
        q, y = forecast_log_quantiles(g), g["y"].values
        raw_lo, raw_hi = intervals(q, LEVELS, np.ones(len(LEVELS)))
        lo, hi, _ = served(q, adapted_scales(g))
        for c, colour in ((0.68, "tab:blue"), (0.95, "tab:red")):
            j = LEVELS.index(c)
            by_day = pd.DataFrame({"date": g["date"].values,
                                   "raw": ((y >= raw_lo[:, j]) & (y <= raw_hi[:, j])).astype(float),
                                   "adapted": ((y >= lo[:, j]) & (y <= hi[:, j])).astype(float)}
                                  ).groupby("date").mean().rolling(window, min_periods=10).mean()
            ax.plot(by_day.index, by_day["raw"], ":", color=colour, label=f"{c:.0%} raw")
            ax.plot(by_day.index, by_day["adapted"], "-", color=colour, label=f"{c:.0%} adapted")
            ax.axhline(c, color=colour, lw=0.6, alpha=0.6)
        ax.set_ylabel(f"h={h}: coverage")
        ax.set_ylim(0.4, 1.0)
        ax.legend(fontsize=7, ncol=4, loc="lower left")
    np.atleast_1d(axes)[0].set_title(f"Interval coverage, {window}-session rolling mean over symbols")
    fig.savefig(path, dpi=110, bbox_inches="tight")
    plt.close(fig)
    return path
