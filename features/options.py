"""Option-implied inputs where chains exist: ATM implied volatility, 25-delta skew,
term slope, and implied against realized volatility.

Chains become four daily series per underlying, named `<SYMBOL>.IV_ATM`,
`.IV_ATM_LONG`, `.IV_PUT25` and `.IV_CALL25`: positive numbers in the shape of a bar,
so they travel on market.ticks like any cross-asset series and the streaming window
sees them as the batch pipeline does. Implied volatility and delta come from vollib
(Black-Scholes, Jaeckel's "Let's Be Rational"); only out-of-the-money options are used.
Where no chain exists the features are missing, which the model sees in their mask.
"""
import numpy as np
import pandas as pd

from features.window import BarWindow

SERIES = (".IV_ATM", ".IV_ATM_LONG", ".IV_PUT25", ".IV_CALL25")
NEAR_MIN_DAYS = 7  # expiries closer than this are dominated by noise and pin risk
LONG_TARGET_DAYS = 90
# Chain underlyings as the panel names them. GOOG (class C) stands for GOOGL (class A):
# the two share classes trade within a fraction of a percent of each other.
UNDERLYING = {"SPX": "GSPC", "SPY": "SPY", "AAPL": "AAPL", "GOOG": "GOOGL"}


def option_series(symbol: str) -> list[str]:
    return [symbol + s for s in SERIES]


def is_option_series(symbol: str) -> bool:
    return any(symbol.endswith(s) for s in SERIES)


def compute(w: BarWindow, ctx, rv_21: np.ndarray) -> dict[str, np.ndarray]:
    """rv_21: the 21-day realized volatility, annualised, that implied volatility is set against."""
    near, long_, put, call = (ctx.aligned(name, w.dates) for name in option_series(w.symbol))
    with np.errstate(invalid="ignore", divide="ignore"):
        return {"iv_atm": near, "iv_skew_25d": put - call, "iv_term_slope": long_ - near,
                "iv_rv_ratio": near / rv_21}


def summarize(chains: pd.DataFrame, spot: pd.DataFrame, rate: pd.DataFrame) -> pd.DataFrame:
    """Chains (date, underlying, underlying_close, expiry, strike, right, close, volume) -> long
    bars of the four series. `spot` (date, symbol, close) fills missing underlying
    closes; `rate` (date, close in % p.a.) is the risk-free rate."""
    from vollib.black_scholes.greeks.analytical import delta
    from vollib.black_scholes.implied_volatility import implied_volatility

    rows = []
    rates = rate.set_index("date")["close"].sort_index()
    for (day, und), g in chains.groupby(["date", "underlying"]):
        symbol = UNDERLYING.get(und)
        if symbol is None:
            continue
        s = g["underlying_close"].dropna()
        s = float(s.iloc[0]) if len(s) else _spot(spot, symbol, day)
        if not np.isfinite(s):
            continue
        r = float(rates.asof(day)) / 100 if len(rates) else 0.0
        t = (g["expiry"] - day).dt.days.values / 365.0
        otm = ((g["right"] == "C") & (g["strike"] >= s)) | ((g["right"] == "P") & (g["strike"] < s))
        # an option that did not trade that day carries an old close: its IV would be stale
        keep = otm.values & (g["close"].values > 0) & (g["volume"].values > 0) & (t * 365 >= NEAR_MIN_DAYS)
        ivs, deltas = [], []
        for k, flag, price, tt in zip(g["strike"].values[keep], g["right"].str.lower().values[keep],
                                      g["close"].values[keep], t[keep]):
            try:
                iv = implied_volatility(price, s, k, tt, r, flag)
            except Exception:  # vollib raises on prices outside no-arbitrage bounds
                continue
            if 0.01 < iv < 5:
                ivs.append((k, flag, tt, iv))
                deltas.append(delta(flag, s, k, tt, r, iv))
        if ivs:
            rows += _points(day, symbol, s, pd.DataFrame(ivs, columns=["k", "flag", "t", "iv"]).assign(d=deltas))
    out = pd.DataFrame(rows, columns=["date", "symbol", "close"])
    return out.assign(open=out["close"], high=out["close"], low=out["close"], volume=0.0)


def _spot(spot: pd.DataFrame, symbol: str, day) -> float:
    s = spot[(spot["symbol"] == symbol) & (spot["date"] == day)]["close"]
    return float(s.iloc[0]) if len(s) else float("nan")


def _points(day, symbol: str, s: float, q: pd.DataFrame) -> list[tuple]:
    """ATM IV of the nearest and a ~3-month expiry, 25-delta put and call IV of the nearest."""
    expiries = sorted(q["t"].unique())
    near = expiries[0]
    far = [e for e in expiries if e * 365 >= near * 365 + 20]
    out = []
    atm = lambda e: q[q["t"] == e].iloc[(q[q["t"] == e]["k"] - s).abs().argmin()]["iv"]
    out.append((day, symbol + ".IV_ATM", float(atm(near))))
    if far:
        e = min(far, key=lambda x: abs(x * 365 - LONG_TARGET_DAYS))
        out.append((day, symbol + ".IV_ATM_LONG", float(atm(e))))
    n = q[q["t"] == near]
    for flag, target, name in (("p", -0.25, ".IV_PUT25"), ("c", 0.25, ".IV_CALL25")):
        side = n[n["flag"] == flag]
        if len(side):
            best = side.iloc[(side["d"] - target).abs().argmin()]
            if abs(best["d"] - target) < 0.1:
                out.append((day, symbol + name, float(best["iv"])))
    return out
