"""What a symbol's option surface says beside its forecast (include_options_greeks).

The surface is the one fitted from the symbol's latest chain on options.quotes. It
answers a forecast whose last bar is within MAX_CHAIN_AGE_DAYS of the chain; an older
or missing chain is stated in the result, which is otherwise served as usual. The
implied quantiles are log returns from the chain's spot, applied to the forecast's last
close, so a split- or dividend-adjusted price series compares with unadjusted strikes.
"""
from datetime import date

import numpy as np

from inference.surface import Surface
from schemas import QUANTILE_KEYS, QUANTILES, ImpliedForecast, OptionsInfo, StraddleGreeks

MAX_CHAIN_AGE_DAYS = 4  # calendar days: a Thursday's chain still answers after a long weekend


def implied(surface: Surface | None, symbol: str, as_of: date, last_close: float,
            horizons: tuple[int, ...]) -> tuple[OptionsInfo, dict[int, ImpliedForecast]]:
    """The surface's view at each horizon, and what was used (or why nothing was)."""
    if surface is None:
        return OptionsInfo(status="no_chain", message=f"no option chain for {symbol} has been received "
                                                      "on options.quotes"), {}
    age = abs((as_of - surface.as_of).days)
    seen = {"chain_as_of": surface.as_of, "spot": surface.spot, "expiries": len(surface.slices)}
    if age > MAX_CHAIN_AGE_DAYS:
        return OptionsInfo(status="stale", message=f"{symbol}'s option chain is of {surface.as_of}, {age} days "
                                                   f"from the forecast's last bar ({as_of}); one within "
                                                   f"{MAX_CHAIN_AGE_DAYS} days is used", **seen), {}
    levels = np.asarray(QUANTILES)
    out = {}
    for h in horizons:
        straddle = surface.straddle(h)
        out[h] = ImpliedForecast(
            implied_move=straddle["implied_move"],
            volatility=straddle["sigma"] * float(np.sqrt(straddle["years"])),
            quantiles={k: float(v) for k, v in zip(QUANTILE_KEYS, last_close * np.exp(surface.distribution(h, levels)))},
            straddle=StraddleGreeks(**{k: straddle[k] for k in StraddleGreeks.model_fields}))
    return OptionsInfo(status="ok", message=f"risk-neutral, from {symbol}'s option surface of {surface.as_of} "
                                            f"({len(surface.slices)} expiries)", **seen), out
