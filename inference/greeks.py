"""Option greeks beside a forecast: what the forecast implies for a desk that hedges it.

For each horizon, a European call and put struck at the last close and expiring h
sessions ahead (h / 252 years), priced by Black-Scholes at the model's own forecast
volatility of the log return to h, annualised. The rate is the fed funds rate from the
cross-asset context, 0 where the context has none. vollib computes prices and greeks
(vega per volatility point, theta per calendar day, its conventions).
"""
import numpy as np
from vollib.black_scholes import black_scholes
from vollib.black_scholes.greeks.analytical import delta, gamma, theta, vega

from features.cross_asset import Context
from schemas import OptionGreeks, OptionQuote

TRADING_DAYS = 252


def at_the_money(spot: float, horizon: int, log_return_vol: float, rate: float) -> OptionGreeks:
    years = horizon / TRADING_DAYS
    sigma = log_return_vol / np.sqrt(years)
    quote = lambda flag: OptionQuote(
        price=float(black_scholes(flag, spot, spot, years, rate, sigma)),
        **{name: float(f(flag, spot, spot, years, rate, sigma))
           for name, f in (("delta", delta), ("gamma", gamma), ("vega", vega), ("theta", theta))})
    return OptionGreeks(strike=spot, years=years, sigma=float(sigma), rate=rate, call=quote("c"), put=quote("p"))


def risk_free_rate(context: Context) -> float:
    """The last fed funds rate in the context, per year; 0 where there is none."""
    _, value = context.series.get("DFF", (None, np.array([])))
    finite = value[np.isfinite(value)]
    return float(finite[-1]) / 100 if len(finite) else 0.0
