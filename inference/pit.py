"""Where each outcome of a backtest fell in the forecast that was served for it: its
normal score (Phi^-1 of the probability integral transform), the copula's data.

The forecast is the one a user was served: the model's quantiles spread by the adaptive
scales learnt from the outcomes known that day (inference/adaptive.py). The risk rules'
widening is left out: it is not in a backtest's rows.
"""
import numpy as np
import pandas as pd

from inference.adaptive import adapted_scales
from inference.marginal import scores_of, table
from tft.evaluate import forecast_log_quantiles


def served_tables(rows: pd.DataFrame) -> np.ndarray:
    """rows of a backtest with adapted scales -> (N, K) each forecast as served, on the
    score grid (inference.marginal.table)."""
    return table(forecast_log_quantiles(rows), None, np.log(adapted_scales(rows)))


def outcome_scores(df: pd.DataFrame, horizon: int) -> pd.DataFrame:
    """df: a backtest with outcomes and adapted scales (inference.adaptive.adapt) ->
    (sessions, symbols) the normal scores of `horizon`'s outcomes by origin day; NaN where
    a symbol has no forecast that day."""
    g = df[df["horizon"] == horizon]
    z = scores_of(served_tables(g), g["y"].values)
    return pd.DataFrame({"date": g["date"].values, "symbol": g["symbol"].values, "z": z}).pivot(
        index="date", columns="symbol", values="z").sort_index()
