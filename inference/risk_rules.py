"""Whether each risk rule earns its place, walk-forward: a backtest's forecasts (made from
data up to each origin) widened by one rule at a time, as the service would have widened
them that day, and scored beside the same forecasts unwidened on the same rows.

A rule is kept when, on the backtest's rows, it lowers the pinball loss at more than half
of the horizons and does not move the 68% and 95% coverage further from nominal on
average. Nothing is fitted: the rules have no parameters to tune on the test years.
"""
import numpy as np
import pandas as pd

from features.cross_asset import Context
from inference.risk import RULES, Inputs, factors
from regime.book import RegimeBook
from tft.evaluate import QCOLS, evaluate

NOMINALS = (68, 95)


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
