"""The validation gate: a candidate replaces the active model only if, on the latest
sessions whose outcomes are known, it is no worse on pinball loss and on interval
coverage, both scored as `evaluate` scores them and shown beside the random walk.

The window is the last `sessions` forecast days whose longest horizon has come; it is
out of sample for a model trained before it, and the record says for which it is not.
"""
import numpy as np
import pandas as pd

from features.cross_asset import MARKET
from features.data import MarketData
from tft.artifact import Artifact
from tft.backtest import backtest
from tft.config import GateConfig
from tft.evaluate import attach_outcomes, evaluate


def window(data: MarketData, sessions: int, longest: int) -> tuple[str, str]:
    """First and last forecast day of the gate: `sessions` days of the market calendar
    (the market's, MARKET), ending `longest` sessions before the data's last day."""
    days = np.sort(data.panel.loc[data.panel["symbol"] == MARKET, "date"].unique())
    last = len(days) - 1 - longest
    return str(pd.Timestamp(days[last - sessions + 1]).date()), str(pd.Timestamp(days[last]).date())


def scores(data: MarketData, art: Artifact, start: str, end: str, symbols: list[str] | None) -> pd.DataFrame:
    bt = backtest(data, art, start, end, symbols, progress=False)
    df = attach_outcomes(bt, data.panel)
    return evaluate(df, "horizon").set_index("horizon")


def _figures(row: pd.Series, prefix: str = "") -> dict:
    return {"pinball": float(row[f"{prefix}pinball"]), "coverage_68": float(row[f"{prefix}cover_68"]),
            "coverage_95": float(row[f"{prefix}cover_95"])}


def compare(data: MarketData, candidate: Artifact, active: Artifact | None, config: GateConfig = GateConfig()) -> dict:
    """The gate's record: per horizon the candidate's, the active model's and the random
    walk's figures on the same rows, whether it passed, and why."""
    symbols = list(config.symbols) or None
    start, end = window(data, config.sessions, max(candidate.spec.horizons))
    mine = scores(data, candidate, start, end, symbols)
    theirs = scores(data, active, start, end, symbols) if active is not None else None
    horizons, failures = {}, []
    for h, row in mine.iterrows():
        entry = {"n": int(row["n"]), "candidate": _figures(row), "random_walk": _figures(row, "rw_")}
        if theirs is not None:
            other = theirs.loc[h]
            entry["active"] = _figures(other)
            if row["pinball"] > other["pinball"] * (1 + config.pinball_tolerance):
                failures.append(f"h={h}: pinball {row['pinball']:.5f} above the active model's {other['pinball']:.5f}")
            for nominal in (68, 95):
                err, base = (abs(r[f"cover_{nominal}"] - nominal / 100) for r in (row, other))
                if err > base + config.coverage_tolerance:
                    failures.append(f"h={h}: {nominal}% coverage {row[f'cover_{nominal}']:.3f}, "
                                    f"the active model's {other[f'cover_{nominal}']:.3f}")
        horizons[str(h)] = entry  # JSON keys
    in_sample = [a.version for a in (candidate, active) if a is not None and a.meta["validation_range"][1] >= start]
    return {
        "window": [start, end], "sessions": config.sessions, "symbols": symbols or "all",
        "candidate": candidate.version, "active": active.version if active is not None else None,
        "trained_on_the_window": in_sample, "horizons": horizons, "passed": not failures,
        "reason": "; ".join(failures) if failures else (
            "no worse than the active model at every horizon" if active is not None else "no active model"),
    }
