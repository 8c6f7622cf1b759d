"""Skill or luck: the direction calls of a backtest beside "always up" and buy-and-hold,
each with a moving-block bootstrap interval over days (blocks of BLOCK sessions keep a
month's dependence between days and symbols), and a reliability plot of prob_up.
"""
from pathlib import Path

import numpy as np
import pandas as pd

BLOCK = 21
RESAMPLES = 1000


def _days(g: pd.DataFrame) -> list[np.ndarray]:
    day = g["date"].rank(method="dense").astype(int).values - 1
    order = np.argsort(day, kind="stable")
    return np.split(order, np.flatnonzero(np.diff(day[order])) + 1)


def _resamples(days: list[np.ndarray], rng) -> list[np.ndarray]:
    """Row indices of each resample: blocks of consecutive days, as many days as the data."""
    n = len(days)
    out = []
    for _ in range(RESAMPLES):
        starts = rng.integers(0, max(1, n - BLOCK + 1), int(np.ceil(n / BLOCK)))
        picked = np.concatenate([np.arange(s, min(s + BLOCK, n)) for s in starts])[:n]
        out.append(np.concatenate([days[d] for d in picked]))
    return out


def _interval(values) -> list[float]:
    return [float(v) for v in np.quantile(values, [0.025, 0.975])]


def direction_stats(point: np.ndarray, p_up: np.ndarray, y: np.ndarray, known: np.ndarray) -> dict[str, float]:
    up = (y > 0).astype(float)
    return {"dir_acc": float(np.mean(np.sign(point) == np.sign(y))), "always_up": float(up.mean()),
            "brier": float(np.mean((p_up - up) ** 2)), "base_rate_brier": float(up.var()),
            "known_rate_brier": float(np.mean((known - up) ** 2))}


def with_known_rate(df: pd.DataFrame, panel: pd.DataFrame) -> pd.DataFrame:
    """Adds `known_up_rate`: the share of up moves among all the panel's h-session outcomes
    (pooled over symbols) settled by each row's day. It is the base rate a forecaster
    could have known on the day; `base_rate_brier` uses the rows' own up-rate, known only
    after the last of them."""
    known = pd.Series(np.nan, index=df.index)
    bars = [(g["date"].values, np.log(g["close"].values)) for _, g in panel.sort_values("date").groupby("symbol")]
    for h in df["horizon"].unique():
        settled = np.concatenate([dates[h:] for dates, _ in bars])
        up = np.concatenate([logc[h:] > logc[:-h] for _, logc in bars])
        order = np.argsort(settled, kind="stable")
        settled, ups = settled[order], np.cumsum(up[order])
        rows = df["horizon"] == h
        n = np.searchsorted(settled, df.loc[rows, "date"].values, side="right")
        rate, seen = np.full(len(n), np.nan), n > 0
        rate[seen] = ups[n[seen] - 1] / n[seen]
        known[rows] = rate
    return df.assign(known_up_rate=known)


def non_overlapping(df: pd.DataFrame, h: int) -> pd.DataFrame:
    """Each symbol's origins h sessions apart, so that holding periods do not overlap."""
    d = df.sort_values(["symbol", "date"])
    return d[d.groupby("symbol").cumcount() % h == 0].reset_index(drop=True)


def sign_sharpes(pos: np.ndarray, y: np.ndarray, h: int) -> tuple[float, float]:
    """Annualised Sharpe ratios of holding `pos` (+1 / -1) for h sessions, and of always +1."""
    annual = np.sqrt(252 / h)
    ratio = lambda pnl: float(pnl.mean() / pnl.std() * annual) if pnl.std() > 0 else float("nan")
    return ratio(pos * y), ratio(y)


def skill(df: pd.DataFrame, seed: int = 0) -> pd.DataFrame:
    """By horizon: directional accuracy and Brier score beside their baselines, the sign
    strategy's Sharpe beside buy-and-hold (origins h sessions apart), and a 95% bootstrap
    interval on each difference: an interval that holds 0 is not skill. df: a backtest
    with outcomes and `known_up_rate` (with_known_rate)."""
    rng = np.random.default_rng(seed)
    rows = []
    for h, g in df.groupby("horizon"):
        g = g.reset_index(drop=True)
        point, y, p = np.log(g["point"].values / g["close"].values), g["y"].values, g["p_up"].values
        known = g["known_up_rate"].values
        s = direction_stats(point, p, y, known)
        boot = [direction_stats(point[r], p[r], y[r], known[r]) for r in _resamples(_days(g), rng)]
        apart = non_overlapping(g.assign(pos=np.sign(point)), h)
        sharpe, hold = sign_sharpes(apart["pos"].values, apart["y"].values, h)
        sharpe_boot = [np.subtract(*sign_sharpes(apart["pos"].values[r], apart["y"].values[r], h))
                       for r in _resamples(_days(apart), rng)]
        rows.append({"horizon": h, "n": len(g), **s,
                     "acc_minus_up": s["dir_acc"] - s["always_up"],
                     "acc_minus_up_95": _interval([b["dir_acc"] - b["always_up"] for b in boot]),
                     "brier_minus_base": s["brier"] - s["base_rate_brier"],
                     "brier_minus_base_95": _interval([b["brier"] - b["base_rate_brier"] for b in boot]),
                     "brier_minus_known": s["brier"] - s["known_rate_brier"],
                     "brier_minus_known_95": _interval([b["brier"] - b["known_rate_brier"] for b in boot]),
                     "sharpe": sharpe, "buy_hold_sharpe": hold, "sharpe_minus_hold": sharpe - hold,
                     "sharpe_minus_hold_95": _interval(sharpe_boot)})
    return pd.DataFrame(rows)


def plot_reliability(df: pd.DataFrame, path: Path, bins: int = 10) -> Path:
    """Observed up-rate against prob_up, in bins of equal count, per horizon."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    horizons = sorted(df["horizon"].unique())
    fig, axes = plt.subplots(1, len(horizons), figsize=(3.4 * len(horizons), 3.4), sharey=True)
    for ax, h in zip(np.atleast_1d(axes), horizons):
        g = df[df["horizon"] == h]
        b = pd.qcut(g["p_up"], bins, duplicates="drop")
        r = g.assign(up=(g["y"] > 0).astype(float)).groupby(b, observed=True).agg(p=("p_up", "mean"), up=("up", "mean"))
        lo, hi = min(r["p"].min(), r["up"].min()) - 0.02, max(r["p"].max(), r["up"].max()) + 0.02
        ax.plot([lo, hi], [lo, hi], color="grey", lw=0.8)
        ax.plot(r["p"], r["up"], "o-")
        ax.axhline((g["y"] > 0).mean(), color="tab:red", lw=0.8, ls=":", label="base rate")
        ax.set_title(f"h={h}")
        ax.set_xlabel("prob_up (bin mean)")
    np.atleast_1d(axes)[0].set_ylabel("observed up-rate")
    np.atleast_1d(axes)[0].legend(fontsize=8)
    fig.savefig(path, dpi=110, bbox_inches="tight")
    plt.close(fig)
    return path
