"""The TA-Lib functions the features call, without TA-Lib's pandas and polars dispatch.

`talib` wraps each C function in a check for Series arguments that costs as much as a
300-bar SMA itself; the features pass float64 numpy arrays only, and a streaming bar
makes some fifty of these calls.
"""
import talib


def _raw(f):
    return getattr(f, "__wrapped__", f)


ADX, ATR, BBANDS, CCI, CORREL, MACD, MAX, MFI, MIN, RSI, SMA, STDDEV, STOCH, SUM, WILLR = map(_raw, (
    talib.ADX, talib.ATR, talib.BBANDS, talib.CCI, talib.CORREL, talib.MACD, talib.MAX, talib.MFI,
    talib.MIN, talib.RSI, talib.SMA, talib.STDDEV, talib.STOCH, talib.SUM, talib.WILLR))
