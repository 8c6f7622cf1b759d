"""Classic indicators, computed by TA-Lib and made scale-free (divided by price or 100).

TA-Lib's exponential smoothings (RSI, MACD, ATR, ADX) forget their start at rate
(1-alpha)^n: after the 400 bars of a streaming window the difference from a value
computed on the whole history is below 1e-12, which the parity test checks.
"""
import numpy as np

from features import ta
from features.rolling import diff, total
from features.window import BarWindow


def compute(w: BarWindow) -> dict[str, np.ndarray]:
    h, l, c, v = w.high, w.low, w.close, w.volume
    macd, signal, hist = ta.MACD(c, fastperiod=12, slowperiod=26, signalperiod=9)
    upper, middle, lower = ta.BBANDS(c, timeperiod=20, nbdevup=2, nbdevdn=2)
    slow_k, slow_d = ta.STOCH(h, l, c, fastk_period=14, slowk_period=3, slowd_period=3)
    band = upper - lower
    signed_volume = np.sign(diff(c)) * v
    with np.errstate(invalid="ignore", divide="ignore"):
        return {
            "rsi_14": ta.RSI(c, 14) / 100,
            "macd": macd / c,
            "macd_signal": signal / c,
            "macd_hist": hist / c,
            "bb_pct_b": (c - lower) / band,
            "bb_width": band / middle,
            "stoch_k": slow_k / 100,
            "stoch_d": slow_d / 100,
            "atr_14": ta.ATR(h, l, c, 14) / c,
            "willr_14": ta.WILLR(h, l, c, 14) / 100,
            "cci_20": ta.CCI(h, l, c, 20) / 100,
            "adx_14": ta.ADX(h, l, c, 14) / 100,
            "obv_slope_20": total(signed_volume, 20) / total(v, 20),
            "mfi_14": ta.MFI(h, l, c, v, 14) / 100,
        }
