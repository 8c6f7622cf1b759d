"""The portfolio backtest's report: the tables as markdown and CSV, and each book's losses
over the test beside its VaR lines, breaches marked."""
from pathlib import Path

import numpy as np
import pandas as pd

PASS = 0.05


def _markdown(df: pd.DataFrame) -> str:
    cols = list(df.columns)
    fmt = lambda v: f"{v:.4g}" if isinstance(v, (float, np.floating)) else str(v)
    return "\n".join(["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols),
                      *("| " + " | ".join(fmt(v) for v in row) + " |" for row in df.itertuples(index=False))])


def plot_breaches(name: str, daily: pd.DataFrame, path: Path) -> Path:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(11, 3.6))
    ax.plot(daily["date"], daily["loss"], color="0.55", lw=0.7, label="loss (1 session)")
    for level, colour in (("95%", "tab:blue"), ("99%", "tab:red")):
        var = daily[f"TFT copula var {level}"]
        ax.plot(daily["date"], var, color=colour, lw=1.1, label=f"TFT copula VaR {level}")
        ax.plot(daily["date"], daily[f"historical simulation var {level}"], color=colour, lw=0.8, ls=":",
                label=f"historical simulation {level}")
        hit = daily["loss"] > var
        ax.scatter(daily["date"][hit], daily["loss"][hit], color=colour, s=14, zorder=3,
                   label=f"breaches {level}: {int(hit.sum())}")
    ax.axhline(0, color="black", lw=0.5)
    ax.set_title(f"{name}: losses and VaR, walked forward")
    ax.set_ylabel("loss, fraction of the book")
    ax.legend(fontsize=7, ncol=3, loc="upper right")
    fig.savefig(path, dpi=110, bbox_inches="tight")
    plt.close(fig)
    return path


def write(out: Path, table: pd.DataFrame, choice, daily: dict[str, pd.DataFrame], intervals: pd.DataFrame,
          tails: pd.DataFrame, sources: list[str], validation_start: str, test_start: str) -> Path:
    out.mkdir(parents=True, exist_ok=True)
    table.to_csv(out / "backtests.csv", index=False)
    intervals.to_csv(out / "symbol_intervals.csv", index=False)
    plots = {name: plot_breaches(name, d, out / f"breaches_{''.join(c for c in name if c.isalnum())}.png")
             for name, d in daily.items()}
    tft = table[table["model"] == "TFT copula"]
    passed = tft[(tft["kupiec_p"] > PASS) & (tft["christoffersen_p"] > PASS)]
    best = table.loc[table.groupby(["book", "horizon", "level"])["tick_loss"].idxmin()]
    won = best[best["model"] == "TFT copula"]
    shares = (intervals.assign(independent=intervals["christoffersen_p"] > PASS, covered=intervals["kupiec_p"] > PASS)
              .groupby(["horizon", "level"])[["independent", "covered", "miss_rate"]].mean().reset_index())
    family = "Gaussian" if choice.dof is None else f"Student-t with {choice.dof:g} degrees of freedom"
    ll = pd.DataFrame([{"half-life": hl, "copula": "gaussian" if dof is None else f"t({dof:g})", "loglik": v}
                       for (hl, dof), v in choice.loglik.items()]).sort_values("loglik", ascending=False)
    lines = [
        "# Books: VaR and expected shortfall, walked forward",
        "",
        f"Forecasts from {', '.join(sources)}. The copula was chosen on the sessions from {validation_start} "
        f"to {test_start} and held: **{family}, correlation half-life {choice.halflife:g} sessions**. "
        f"Test sessions from {test_start}; horizons above one session on non-overlapping windows. "
        "Losses are positive fractions of the book's value; a breach is a loss above the VaR. "
        "Tests pass at p > 0.05: Kupiec (unconditional coverage), Christoffersen (independence), their sum "
        "(conditional coverage), Acerbi-Szekely Z2 for the expected shortfall (p by simulation under each "
        "model's own predictive draws; Z2 < 0: risk understated).",
        "",
        f"**The TFT copula passes Kupiec and Christoffersen on {len(passed)} of {len(tft)} book-horizon-levels. "
        f"Its tick loss is the lowest of the three on {len(won)} of {len(best)}.**",
        "",
        "## Every book, horizon, level and model",
        "",
        _markdown(table),
        "",
        "## Each symbol's own intervals on the test sessions",
        "",
        "The share of symbols whose misses pass the independence test (`independent`) and the coverage test "
        "(`covered`), and the mean miss rate:",
        "",
        _markdown(shares),
        "",
        "## The far tails of each symbol's served forecast",
        "",
        "How often an outcome fell below the served q quantile (and above the 1 - q one), pooled over symbols: a "
        "calibrated tail is hit at q. Beyond the 95% interval a forecast's tail is the model's quantiles extended "
        "linearly in normal score.",
        "",
        _markdown(tails),
        "",
        "## The copula's choice on the validation sessions (predictive log-likelihood, one session ahead)",
        "",
        _markdown(ll),
        "",
        *(f"![{name}]({p.name})\n" for name, p in plots.items()),
    ]
    path = out / "report.md"
    path.write_text("\n".join(lines))
    return path
