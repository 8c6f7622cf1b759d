"""Books' VaR and expected shortfall walked forward, as banks backtest them: the TFT's
served forecasts joined by the copula, beside historical simulation over 250 days and
RiskMetrics (EWMA, lambda 0.94) on the same origin days.

The copula's correlation on each day is built only from the outcomes known by its close
(inference.dependence.walk). Its half-life and family are chosen on the validation
sessions, before any test session is scored, and then held. Horizons above one session
are scored on non-overlapping windows, so that the tests' independence holds.
"""
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.stats import norm
from tqdm import tqdm

from inference.adaptive import adapted_scales, served
from inference.book import book_risk
from inference.conformal import LEVELS
from inference.dependence import DOFS, choose, walk
from inference.pit import outcome_scores, served_tables
from research import var_tests as vt
from tft.evaluate import forecast_log_quantiles

SECTORS = ("XLE", "XLF", "XLI", "XLK", "XLP", "XLU", "XLV", "XLY")
HALFLIVES = (21.0, 63.0, 126.0)  # sessions: the candidates scored on the validation year
HISTORY = 250  # sessions of book returns behind historical simulation
AS_DRAWS = 2_000  # of each day's predictive losses kept for the expected-shortfall test


def books(symbols: list[str]) -> dict[str, dict[str, float]]:
    """The four books of the backtest, those whose symbols the backtest holds."""
    every = {"60/40 SPY/TLT": {"SPY": 0.6, "TLT": 0.4},
             "equal weight": {s: 1 / len(symbols) for s in symbols},
             "sector basket": {s: 1 / len(SECTORS) for s in SECTORS},
             "long KO / short PEP": {"KO": 1.0, "PEP": -1.0}}
    return {name: w for name, w in every.items() if set(w) <= set(symbols)}


@dataclass(frozen=True)
class Choice:
    halflife: float
    dof: float | None
    loglik: dict  # (halflife, dof) -> the validation sessions' predictive log-likelihood


def choose_copula(z: pd.DataFrame, validation_start: str, test_start: str) -> Choice:
    """On the one-session scores of the validation sessions only: the test sessions'
    rows are cut off before anything is fitted."""
    seen = z[z.index < pd.Timestamp(test_start)].iloc[:-1]  # the last day's outcome is the first test day's close
    first = int(np.searchsorted(seen.index, pd.Timestamp(validation_start)))
    picked = choose(seen.values, 1, HALFLIVES, DOFS, score_from=first)
    return Choice(*picked["best"], picked["loglik"])


def origins(days: pd.DatetimeIndex, test_start: str, horizon: int) -> np.ndarray:
    """Indices of the test origin days, `horizon` sessions apart."""
    first = int(np.searchsorted(days, pd.Timestamp(test_start)))
    return np.arange(first, len(days), horizon)


def book_returns(closes: pd.DataFrame, weights: dict[str, float], horizon: int) -> pd.Series:
    """The book's simple return over the `horizon` sessions after each day (rebalanced to
    its weights at each origin); NaN where the future is not in the data."""
    c = closes[list(weights)]
    return (c.shift(-horizon) / c - 1) @ pd.Series(weights)


def tft_copula(df: pd.DataFrame, z: pd.DataFrame, weights: dict[str, float], horizon: int, choice: Choice,
               test_start: str, levels: np.ndarray) -> pd.DataFrame:
    """One row per test origin: the book's VaR and ES at each level from the copula as it
    stood that day, and the predictive losses kept for the ES test."""
    g = df[df["horizon"] == horizon].set_index(["date", "symbol"]).sort_index()
    symbols = list(weights)
    cols = [z.columns.get_loc(s) for s in symbols]
    w = np.array([weights[s] for s in symbols])
    want = set(origins(z.index, test_start, horizon))
    rows = []
    for i, corr, _ in walk(z.values, horizon, choice.halflife):
        if i not in want:
            continue
        day = z.index[i]
        part = g.loc[[(day, s) for s in symbols]]
        risk = book_risk(w, served_tables(part), corr[np.ix_(cols, cols)], choice.dof, levels, horizon)
        keep = np.sort(risk.losses)[np.linspace(0, len(risk.losses) - 1, AS_DRAWS).astype(int)]
        rows.append({"date": day, "var": risk.var, "es": risk.es, "draws": keep})
    return pd.DataFrame(rows)


def baselines(closes: pd.DataFrame, weights: dict[str, float], horizon: int, days: pd.DatetimeIndex,
              levels: np.ndarray) -> dict[str, vt.Forecasts]:
    """Historical simulation and RiskMetrics at the close of each of `days`."""
    past = book_returns(closes, weights, horizon)
    at = closes.index.get_indexer(days)
    # The h-session returns known at day t: those that ended by t, so started by t - h.
    history = np.stack([-past.values[t - horizon - HISTORY + 1:t - horizon + 1] for t in at])
    daily = (closes[list(weights)].pct_change()).values[1:]  # row j: the return into day j + 1
    first = at.min() - HISTORY - 1
    if first < horizon:
        raise ValueError(f"the baselines need {HISTORY + horizon + 1} sessions of closes before the first test day")
    rm = vt.riskmetrics(daily[first:at.max()], np.array(list(weights.values())), horizon, levels,
                        warmup=HISTORY)
    pick = at - 1 - first - HISTORY  # riskmetrics' row for day t: made at the close of t
    return {"historical simulation": vt.historical_simulation(history, levels),
            "RiskMetrics": vt.Forecasts(rm.var[pick], rm.es[pick], rm.draws[pick])}


def scores(losses: np.ndarray, var: np.ndarray, es: np.ndarray, draws: np.ndarray, levels: np.ndarray) -> list[dict]:
    out = []
    for j, c in enumerate(levels):
        b = losses > var[:, j]
        kup, ind, cc = vt.kupiec(b, c), vt.christoffersen(b), vt.conditional_coverage(b, c)
        es_test = vt.acerbi_szekely(losses, var[:, j], es[:, j], c, draws)
        out.append({"level": c, "n": len(b), "breaches": int(b.sum()), "breach_rate": b.mean(),
                    "kupiec_p": kup.p_value, "christoffersen_p": ind.p_value, "cc_p": cc.p_value,
                    "es_z2": es_test.stat, "es_p": es_test.p_value, "tick_loss": vt.tick_loss(losses, var[:, j], c)})
    return out


def backtest(df: pd.DataFrame, closes: pd.DataFrame, validation_start: str, test_start: str,
             horizons=(1, 5), levels=(0.95, 0.99)) -> tuple[pd.DataFrame, Choice, dict]:
    """df: backtest rows with outcomes and adapted scales, from before `validation_start`
    (the copula's first months) to the end of the test; closes (days, symbols) the panel's.
    -> (a row per book, horizon, level and model, the copula chosen, each book's daily
    figures for the plots)."""
    levels = np.asarray(levels)
    zs = {h: outcome_scores(df, h) for h in horizons}
    choice = choose_copula(zs[1], validation_start, test_start)
    table_rows, daily = [], {}
    plan = [(name, weights, h) for name, weights in books(sorted(zs[1].columns)).items() for h in horizons]
    for name, weights, h in tqdm(plan, desc="books", unit="book-horizon"):
        tft = tft_copula(df, zs[h], weights, h, choice, test_start, levels)
        realised = book_returns(closes, weights, h).reindex(tft["date"])
        ok = realised.notna().values
        tft, losses = tft[ok].reset_index(drop=True), -realised.values[ok]
        models = {"TFT copula": vt.Forecasts(np.stack(tft["var"]), np.stack(tft["es"]), np.stack(tft["draws"])),
                  **baselines(closes, weights, h, pd.DatetimeIndex(tft["date"]), levels)}
        for model, f in models.items():
            for r in scores(losses, f.var, f.es, f.draws, levels):
                table_rows.append({"book": name, "horizon": h, "model": model, **r})
        if h == 1:
            daily[name] = pd.DataFrame({"date": tft["date"], "loss": losses,
                                        **{f"{m} var {c:.0%}": f.var[:, j] for m, f in models.items()
                                           for j, c in enumerate(levels)}})
    return pd.DataFrame(table_rows), choice, daily


def symbol_intervals(df: pd.DataFrame, test_start: str, horizons=(1, 5), levels=(0.68, 0.95)) -> pd.DataFrame:
    """Each symbol's own served intervals on the test sessions (non-overlapping at h > 1):
    the miss rate, Kupiec and Christoffersen, so that clustered misses show."""
    rows = []
    test = df[df["date"] >= pd.Timestamp(test_start)]
    for h in horizons:
        g = test[test["horizon"] == h].sort_values("date")
        lo, hi, _ = served(forecast_log_quantiles(g), adapted_scales(g))
        for c in levels:
            j = LEVELS.index(c)
            miss = pd.Series((g["y"].values < lo[:, j]) | (g["y"].values > hi[:, j]), index=g.index)
            for symbol, m in miss.groupby(g["symbol"]):
                b = m.values[::h]
                rows.append({"horizon": h, "level": c, "symbol": symbol, "n": len(b), "miss_rate": b.mean(),
                             "kupiec_p": vt.kupiec(b, c).p_value, "christoffersen_p": vt.christoffersen(b).p_value})
    return pd.DataFrame(rows)


def tail_rates(df: pd.DataFrame, validation_start: str, test_start: str, horizons=(1, 5)) -> pd.DataFrame:
    """How often outcomes fell beyond each symbol's served far quantiles, pooled over
    symbols, on the validation and the test sessions: a calibrated tail is hit at its level."""
    rows = []
    for h in horizons:
        z = outcome_scores(df, h)
        for period, part in (("validation", z[(z.index >= validation_start) & (z.index < test_start)]),
                             ("test", z[z.index >= test_start])):
            v = part.values[np.isfinite(part.values)]
            rows += [{"horizon": h, "sessions": period, "quantile": q, "n": len(v),
                      "share below": float(np.mean(v < norm.ppf(q))), "share above 1 - q": float(np.mean(v > -norm.ppf(q)))}
                     for q in (0.005, 0.01, 0.025, 0.05)]
    return pd.DataFrame(rows)
