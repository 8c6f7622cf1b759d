"""The evaluation report: markdown tables and the plots people would rather see.

matplotlib is imported here only, with the file backend, so nothing else pays for it.
"""
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.stats import norm

from features.cross_asset import MARKET
from tft.evaluate import LEVELS, evaluate, forecast_log_quantiles

HEADLINE = ["horizon", "n", "dir_acc", "always_up_acc", "pinball", "rw_pinball", "pinball_skill", "cover_68",
            "rw_cover_68", "cover_95", "rw_cover_95", "brier", "base_rate_brier", "mape_pct",
            "rw_mape_pct", "rmse", "rw_rmse", "sharpe", "buy_hold_sharpe"]


REGIME_TABLES = (("regime", "By VIX regime"), ("symbol_regime", "By the symbol's own regime (HMM)"),
                 ("market_regime", "By the market's regime (HMM on SPY)"))


def write_report(df: pd.DataFrame, out: Path, title: str, fan_symbol: str = MARKET) -> Path:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    out.mkdir(parents=True, exist_ok=True)
    by_h = evaluate(df, "horizon")
    by_sym = evaluate(df, "symbol")
    # regime columns, when the rows have them: a VIX band (attach_outcomes) and the HMM
    # regimes of the symbol and the market (added by the caller, who has the regime book)
    regimes = [(col, title, evaluate(df, col)) for col, title in REGIME_TABLES if col in df]
    plots = {
        "pinball_by_horizon.png": _pinball_plot(plt, by_h),
        "calibration.png": _calibration_plot(plt, df),
        f"fan_{fan_symbol}.png": _fan_plot(plt, df, fan_symbol),
    }
    for name, fig in plots.items():
        if fig is not None:
            fig.savefig(out / name, dpi=110, bbox_inches="tight")
            plt.close(fig)
    first, last = df["date"].min().date(), df["date"].max().date()
    lines = [
        f"# {title}", "",
        f"{df['symbol'].nunique()} symbols, origins {first} .. {last}, {len(df):,} (origin, horizon) rows "
        "with a realized outcome. Errors are on log returns. Baselines on the same rows: "
        "`always_up_acc` is the accuracy of always predicting a rise (the up-day base rate), "
        "`rw_*` is the random walk with 63-day rolling volatility (Gaussian quantiles), "
        "`base_rate_brier` predicts the base rate every day, `buy_hold_sharpe` holds long.", "",
        "## By horizon", "", markdown_table(by_h[HEADLINE]), "",
        "![pinball by horizon](pinball_by_horizon.png)", "",
        "![calibration](calibration.png)", "",
        f"![fan chart]({'fan_' + fan_symbol + '.png'})", "",
    ]
    for col, title, table in regimes:
        lines += [f"## {title}", "", markdown_table(table[[col, *HEADLINE]]), ""]
    lines += ["## By symbol (horizon 5)", "",
              markdown_table(by_sym[by_sym["horizon"] == 5][["symbol", *HEADLINE[1:]]]), ""]
    path = out / "report.md"
    path.write_text("\n".join(lines))
    by_h.to_csv(out / "metrics_by_horizon.csv", index=False)
    by_sym.to_csv(out / "metrics_by_symbol.csv", index=False)
    return path


def markdown_table(df: pd.DataFrame) -> str:
    fmt = lambda v: f"{v:.5g}" if isinstance(v, float) else str(v)
    head = "| " + " | ".join(df.columns) + " |"
    sep = "|" + "---|" * len(df.columns)
    body = ["| " + " | ".join(fmt(v) for v in row) + " |" for row in df.itertuples(index=False)]
    return "\n".join([head, sep, *body])


def _pinball_plot(plt, by_h: pd.DataFrame):
    fig, ax = plt.subplots(figsize=(6, 3.5))
    x = np.arange(len(by_h))
    ax.bar(x - 0.2, by_h["pinball"], 0.4, label="TFT")
    ax.bar(x + 0.2, by_h["rw_pinball"], 0.4, label="random walk, 63-day vol")
    ax.set_xticks(x, [f"{h}d" for h in by_h["horizon"]])
    ax.set_ylabel("mean pinball loss (log return)")
    ax.set_title("Quantile loss by horizon (lower is better)")
    ax.legend()
    return fig


def _calibration_plot(plt, df: pd.DataFrame):
    fig, (a, b) = plt.subplots(1, 2, figsize=(10, 4))
    y = df["y"].values
    q = forecast_log_quantiles(df)
    rw = df["rw_sigma"].values[:, None] * norm.ppf(LEVELS)[None, :]
    a.plot([0, 1], [0, 1], "k:", lw=1)
    a.plot(LEVELS, (y[:, None] <= q).mean(0), "o-", label="TFT")
    a.plot(LEVELS, (y[:, None] <= rw).mean(0), "s--", label="random walk")
    a.set_xlabel("nominal quantile level")
    a.set_ylabel("share of outcomes below it")
    a.set_title("Quantile calibration")
    a.legend()
    bins = np.linspace(0, 1, 11)
    which = np.clip(np.digitize(df["p_up"].values, bins) - 1, 0, 9)
    up = (y > 0).astype(float)
    centers, freq = [], []
    for k in range(10):
        m = which == k
        if m.sum() >= 20:
            centers.append(df["p_up"].values[m].mean())
            freq.append(up[m].mean())
    b.plot([0, 1], [0, 1], "k:", lw=1)
    b.plot(centers, freq, "o-")
    b.axhline(up.mean(), color="grey", lw=1, label=f"up-day base rate {up.mean():.2f}")
    b.set_xlabel("predicted P(up)")
    b.set_ylabel("observed share up")
    b.set_title("Direction reliability")
    b.legend()
    return fig


def _fan_plot(plt, df: pd.DataFrame, symbol: str, horizon: int = 5, days: int = 250):
    d = df[(df["symbol"] == symbol) & (df["horizon"] == horizon)].sort_values("date").tail(days)
    if d.empty:
        return None
    fig, ax = plt.subplots(figsize=(9, 4))
    t = d["date"].values
    ax.fill_between(t, d["q10"], d["q90"], alpha=0.2, label="10-90%")
    ax.fill_between(t, d["q25"], d["q75"], alpha=0.35, label="25-75%")
    ax.plot(t, d["q50"], lw=1, label="median")
    ax.plot(t, d["close"] * np.exp(d["y"]), "k", lw=1, label=f"realized close {horizon} sessions later")
    ax.set_title(f"{symbol}: {horizon}-session forecasts by origin date")
    ax.legend(loc="upper left", fontsize=8)
    return fig
