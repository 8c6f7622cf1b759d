"""A symbol's regime path drawn over its price: what a reader checks a regime model by."""
from pathlib import Path

import pandas as pd

COLOURS = {"Bull": "#2e7d32", "Sideways": "#9e9e9e", "Bear": "#ef6c00", "Crisis": "#c62828"}


def plot_path(bars: pd.DataFrame, path: pd.DataFrame, symbol: str, out: Path) -> Path:
    """bars: date, close; path: date, regime (regime.book.RegimeBook.path)."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.patches import Patch

    prices = bars.set_index("date")["close"].loc[path["date"].min():path["date"].max()]
    fig, ax = plt.subplots(figsize=(13, 4.5))
    ax.plot(prices.index, prices.values, color="black", linewidth=0.8)
    ax.set_yscale("log")
    # one span per run of equal regimes
    runs = (path["regime"] != path["regime"].shift()).cumsum()
    for _, run in path.groupby(runs):
        ax.axvspan(run["date"].iloc[0], run["date"].iloc[-1] + pd.Timedelta(days=1),
                   color=COLOURS[run["regime"].iloc[0]], alpha=0.25, linewidth=0)
    ax.legend(handles=[Patch(color=c, alpha=0.4, label=n) for n, c in COLOURS.items()], loc="upper left", ncols=4)
    ax.set_title(f"{symbol}: filtered regime (each day from data up to it) over the adjusted close")
    fig.savefig(out, dpi=110, bbox_inches="tight")
    plt.close(fig)
    return out
