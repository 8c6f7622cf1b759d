"""Walk-forward backtest: a forecast for every (symbol, day) from data up to that day.

Features are causal (tested: changing bars after t leaves features at t unchanged) and
an encoder window ends at its origin, so computing every feature once over the folder
and cutting windows at each origin is the same as re-running the pipeline day by day,
only faster. Forward passes are batched.
"""
import numpy as np
import pandas as pd
from tqdm import tqdm

from features.data import MarketData
from tft.artifact import Artifact
from tft.data import make_inputs, market_series, sample_days
from tft.evaluate import LEVELS, QCOLS
from tft.predict import predict

COLUMNS = ["symbol", "date", "horizon", "close", "point", *QCOLS, "p_up", "vol"]


def backtest(data: MarketData, art: Artifact, start: str, end: str | None = None,
             symbols: list[str] | None = None, batch_size: int = 512,
             progress: bool = True) -> pd.DataFrame:
    assert art.config.quantiles == LEVELS, "the CSV names these quantiles"
    series = market_series(data, end, symbols)
    idx = sample_days(series, art.spec, np.datetime64(start, "D"),
                      np.datetime64(end, "D") if end else None, need_target=False)
    frames = []
    for i in tqdm(range(0, len(idx), batch_size), desc="backtest", unit="batch", disable=not progress):
        chunk = idx[i:i + batch_size]
        inputs, scales = make_inputs(series, chunk, art.spec, art.scaler)
        frames.append(rows(series, chunk, art.spec.horizons, predict(art.model, inputs, scales, art.calibration)))
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=COLUMNS)


def rows(series, idx: np.ndarray, horizons: tuple[int, ...], fc) -> pd.DataFrame:
    """One row per (origin, horizon), prices from log-return forecasts."""
    close = np.array([series[s].close[t] for s, t in idx])  # (N,)
    N, Z = len(idx), len(horizons)
    q = close[:, None, None] * np.exp(fc.quantiles)  # (N, Z, Q)
    return pd.DataFrame({
        "symbol": np.repeat([series[s].symbol for s, _ in idx], Z),
        "date": np.repeat([series[s].dates[t] for s, t in idx], Z),
        "horizon": np.tile(horizons, N),
        "close": np.repeat(close, Z),
        "point": (close[:, None] * np.exp(fc.point)).ravel(),
        **{col: q[..., j].ravel() for j, col in enumerate(QCOLS)},
        "p_up": fc.prob_up.ravel(),
        "vol": fc.vol.ravel(),
    })[COLUMNS]
