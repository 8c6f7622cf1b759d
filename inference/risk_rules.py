"""Whether each risk rule earns its place, walk-forward: a backtest's forecasts (made from
data up to each origin) widened by one rule at a time, as the service would have widened
them that day, and scored beside the same forecasts unwidened on the same rows.

A rule is kept when, on the backtest's rows, it lowers the pinball loss at more than half
of the horizons and does not move the 68% and 95% coverage further from nominal on
average. Nothing is fitted: the rules have no parameters to tune on the test years.
"""
from pathlib import Path

import numpy as np
import pandas as pd

from features.cross_asset import Context
from inference.risk import RULES, Inputs, factors
from regime.book import RegimeBook
from tft.evaluate import QCOLS, evaluate
from tft.report import markdown_table

NOMINALS = (68, 95)
COLUMNS = ["rule", "horizon", "widened_share", "pinball", "pinball_vs_none", "rw_pinball", "cover_68", "cover_95"]


def rule_factors(panel: pd.DataFrame, context: Context, book: RegimeBook | None) -> pd.DataFrame:
    """(symbol, date, <rule>...): each rule's factor on every day of every symbol, from
    the days up to it."""
    parts = []
    for symbol, g in panel.sort_values("date").groupby("symbol"):
        dates, close = g["date"].values.astype("datetime64[D]"), g["close"].values.astype(float)
        p_crisis = np.full(len(dates), np.nan)
        if book is not None and len(path := book.path(symbol, dates, close, context)):
            p_crisis = pd.Series(path["Crisis"].values, index=path["date"].values).reindex(dates).values
        x = Inputs(close, context.aligned("VIX", dates), context.aligned("VIX3M", dates), p_crisis)
        parts.append(pd.DataFrame({"symbol": symbol, "date": pd.to_datetime(dates),
                                   **{name: factors(rule(x)) for name, (rule, _) in RULES.items()}}))
    return pd.concat(parts, ignore_index=True)


def widened(df: pd.DataFrame, factor: np.ndarray) -> pd.DataFrame:
    """The forecasts' quantiles spread `factor` times further from the median (N,)."""
    logq = np.log(df[QCOLS].values / df["close"].values[:, None])  # (N, Q)
    mid = logq[:, [QCOLS.index("q50")]]
    out = df.copy()
    out[QCOLS] = df["close"].values[:, None] * np.exp(mid + (logq - mid) * factor[:, None])
    return out


def compare(df: pd.DataFrame, by_rule: pd.DataFrame, combined: dict[str, list[str]] | None = None) -> pd.DataFrame:
    """One row per (rule, horizon): pinball and coverage widened by the rule beside the
    same forecasts unwidened; 'none' is the unwidened row itself, and each `combined`
    name widens by the largest factor of its rules, as the service does."""
    rows = df.merge(by_rule, on=["symbol", "date"], how="left")
    rows[list(RULES)] = rows[list(RULES)].fillna(1.0)
    for name, rules in (combined or {}).items():
        rows[name] = rows[rules].max(axis=1) if rules else 1.0
    out = []
    for name in ("none", *RULES, *(combined or {})):
        scored = evaluate(rows if name == "none" else widened(rows, rows[name].values), "horizon")
        share = (rows[name] > 1).mean() if name != "none" else 0.0
        out.append(scored.assign(rule=name, widened_share=share))
    table = pd.concat(out, ignore_index=True)
    base = table[table["rule"] == "none"].set_index("horizon")
    table["pinball_vs_none"] = table["pinball"].values / base.loc[table["horizon"], "pinball"].values
    for n in NOMINALS:
        table[f"cover_{n}_error"] = (table[f"cover_{n}"] - n / 100).abs()
    return table


def verdicts(table: pd.DataFrame) -> dict[str, tuple[bool, str]]:
    """rule -> (kept, why), by the module's rule."""
    base = table[table["rule"] == "none"]
    base_error = base[[f"cover_{n}_error" for n in NOMINALS]].values.mean()
    out = {}
    for name in RULES:
        t = table[table["rule"] == name]
        better = int((t["pinball_vs_none"] < 1).sum())
        error = t[[f"cover_{n}_error" for n in NOMINALS]].values.mean()
        kept = better > len(t) / 2 and error <= base_error
        out[name] = (kept, f"lower pinball at {better} of {len(t)} horizons; mean coverage error "
                           f"{error:.4f} against {base_error:.4f} unwidened")
    return out


def write_report(df: pd.DataFrame, by_rule: pd.DataFrame, out: Path, title: str) -> dict[str, tuple[bool, str]]:
    """The verdicts, and out/report.md, risk_rules.csv and risk_rules.png: every rule alone,
    and `kept` (the kept rules together), beside the unwidened forecasts."""
    kept = verdicts(compare(df, by_rule))
    chosen = [name for name, (ok, _) in kept.items() if ok]
    table = compare(df, by_rule, {"kept": chosen})[COLUMNS]
    out.mkdir(parents=True, exist_ok=True)
    table.to_csv(out / "risk_rules.csv", index=False, float_format="%.5f")
    lines = [f"# {title}", "",
             f"{df['symbol'].nunique()} symbols, origins {df['date'].min().date()} .. {df['date'].max().date()}; "
             "each rule alone widens the forecasts as the service would have that day. `none` is unwidened.", "",
             markdown_table(table), "", f"`kept` widens by the largest factor of {chosen}.", "", "## Verdicts", ""]
    lines += [f"- `{name}`: {'kept' if ok else 'not kept'} ({why})" for name, (ok, why) in kept.items()]
    (out / "report.md").write_text("\n".join(lines) + "\n")
    _plot(table, out / "risk_rules.png")
    return kept


def _plot(table: pd.DataFrame, path: Path) -> None:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, axes = plt.subplots(1, 3, figsize=(15, 4))
    for ax, (col, title, ref) in zip(axes, [("pinball_vs_none", "pinball loss / unwidened", 1.0),
                                            ("cover_68", "68% interval coverage", 0.68),
                                            ("cover_95", "95% interval coverage", 0.95)]):
        wide = table.pivot(index="horizon", columns="rule", values=col)
        wide.plot.bar(ax=ax, rot=0, width=0.85, legend=ax is axes[0])
        ax.axhline(ref, color="black", linewidth=0.8)
        ax.set_title(title)
        lo, hi = wide.values.min(), wide.values.max()
        ax.set_ylim(lo - (hi - lo) * 0.3, hi + (hi - lo) * 0.3)
    fig.savefig(path, dpi=110, bbox_inches="tight")
    plt.close(fig)
