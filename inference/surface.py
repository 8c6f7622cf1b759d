"""The implied-volatility surface of an option chain, and what it says at a horizon.

- Each expiry's forward comes from put-call parity, F = K + e^{rT} (C - P), the median
  over the strikes quoted both ways nearest the money, so no dividend yield is assumed
  (the one the forward implies is used for spot Greeks).
- Implied volatilities are Black-76 on that forward, from mid prices of out-of-the-money
  options (vollib: Jaeckel's "Let's Be Rational").
- Each expiry's smile is Gatheral's raw SVI in total variance w(k) = sigma^2 T against
  log-moneyness k = log(K / F): w = a + b (rho (k - m) + sqrt((k - m)^2 + s^2)). Slices
  are fitted from the shortest expiry out, vega-weighted, with penalties that keep
  Durrleman's g(k) >= 0 (no butterfly arbitrage) and w above the previous slice (no
  calendar arbitrage) on a grid of k; `arbitrage()` checks both on a finer grid.
- Between expiries total variance is interpolated linearly in T at fixed k (flat vol
  beyond the ends), which keeps it non-decreasing in T.

At a horizon the surface gives the option-implied distribution of the log return
(Breeden-Litzenberger: P(S_T <= K) = 1 + e^{rT} dC/dK, which on a smile of total
variance w(k) is N(-d2) + phi(d2) w'(k) / (2 sqrt(w)) in closed form), the implied move
(the ATM straddle over spot) and the straddle's Greeks. All of it is risk-neutral: it
is the market's price of the move, not a forecast of it.

A fitted surface is kept as its `SurfaceInfo` (the SVI parameters, not the quotes), from
which `from_info` rebuilds the same surface exactly.
"""
import time
from dataclasses import dataclass
from datetime import date, datetime, timezone

import numpy as np
import pandas as pd
from scipy.optimize import least_squares
from scipy.special import ndtr
from vollib.black.implied_volatility import implied_volatility as black_iv
from vollib.black_scholes_merton import black_scholes_merton
from vollib.black_scholes_merton.greeks.analytical import delta, gamma, theta, vega

from inference.greeks import TRADING_DAYS
from schemas import OptionChain, SmileInfo, SurfaceInfo

DAYS_PER_YEAR = 365.0  # option time runs in calendar days; horizons in sessions (TRADING_DAYS)
MIN_DAYS = 7  # expiries closer than this are noise and pin risk
MIN_QUOTES = 6  # out-of-the-money quotes an expiry needs to be fitted
MAX_STDEVS = 3.0
MAX_REL_SPREAD = 0.5
PARITY_STRIKES = 10
MAX_RATE_GAP = 0.03  # stale closes can fit any slope: a rate further from the stand-in is not believed
GRID = np.linspace(-1.5, 1.0, 501)  # log-moneyness where arbitrage is kept away (and checked, finer)


@dataclass(frozen=True)
class SVI:
    a: float
    b: float
    rho: float
    m: float
    s: float

    def w(self, k: np.ndarray) -> np.ndarray:
        """Total implied variance at log-moneyness k."""
        d = k - self.m
        return self.a + self.b * (self.rho * d + np.sqrt(d * d + self.s * self.s))

    def dw(self, k: np.ndarray) -> np.ndarray:
        """dw/dk."""
        d = k - self.m
        return self.b * (self.rho + d / np.sqrt(d * d + self.s * self.s))

    def g(self, k: np.ndarray) -> np.ndarray:
        """Durrleman's density condition: the smile admits a butterfly arbitrage where g < 0."""
        d = k - self.m
        root = np.sqrt(d * d + self.s * self.s)
        w, w1, w2 = self.w(k), self.dw(k), self.b * self.s ** 2 / root ** 3
        return (1 - k * w1 / (2 * w)) ** 2 - w1 ** 2 / 4 * (1 / w + 0.25) + w2 / 2


@dataclass(frozen=True)
class Slice:
    expiry: date
    t: float  # years
    forward: float
    rate: float  # the expiry's own, from parity
    svi: SVI
    n_quotes: int
    rmse_vol: float
    # the out-of-the-money quotes it was fitted on (strike, k, iv, mid, right); None once stored
    quotes: pd.DataFrame | None = None


@dataclass(frozen=True, eq=False)  # by identity: a served answer is keyed by the surface it used
class Surface:
    as_of: date
    spot: float
    slices: tuple[Slice, ...]  # by expiry

    def _between(self, t: float) -> list[tuple[float, SVI]]:
        """The slices whose total variance, weighted, is the surface's at t."""
        ts = np.array([s.t for s in self.slices])
        if t <= ts[0]:
            return [(t / ts[0], self.slices[0].svi)]  # the first slice's vol, flat in time
        if t >= ts[-1]:
            return [(t / ts[-1], self.slices[-1].svi)]
        j = int(np.searchsorted(ts, t))
        lo, hi = self.slices[j - 1], self.slices[j]
        x = (t - lo.t) / (hi.t - lo.t)
        return [(1 - x, lo.svi), (x, hi.svi)]

    def total_variance(self, k: np.ndarray, t: float) -> np.ndarray:
        return sum(x * svi.w(k) for x, svi in self._between(t))

    def total_variance_slope(self, k: np.ndarray, t: float) -> np.ndarray:
        return sum(x * svi.dw(k) for x, svi in self._between(t))

    def forward(self, t: float) -> float:
        """Interpolated in log forward per year, the carry being smooth in time."""
        ts = np.array([s.t for s in self.slices])
        carry = np.interp(t, ts, [np.log(s.forward / self.spot) / s.t for s in self.slices])
        return float(self.spot * np.exp(carry * t))

    def rate(self, t: float) -> float:
        """Interpolated between the expiries' own rates (flat beyond the ends)."""
        return float(np.interp(t, [s.t for s in self.slices], [s.rate for s in self.slices]))

    def vol(self, strike: float | np.ndarray, t: float) -> np.ndarray:
        k = np.log(np.asarray(strike, dtype=float) / self.forward(t))
        return np.sqrt(np.maximum(self.total_variance(k, t), 1e-12) / t)

    def arbitrage(self, grid: np.ndarray = np.linspace(GRID[0], GRID[-1], 2501)) -> dict[str, float]:
        """The worst violations on `grid`: min g(k) over slices (butterfly, >= 0 is free of
        it) and the largest fall of total variance from one expiry to the next (calendar,
        <= 0 is free of it)."""
        butterfly = min(float(s.svi.g(grid).min()) for s in self.slices)
        falls = [float((a.svi.w(grid) - b.svi.w(grid)).max()) for a, b in zip(self.slices, self.slices[1:])]
        return {"butterfly_min_g": butterfly, "calendar_max_fall": max(falls, default=0.0)}

    def distribution(self, horizon_sessions: int, levels: np.ndarray) -> np.ndarray:
        """(L,) risk-neutral quantiles of the log return to the horizon at `levels`."""
        t = horizon_sessions / TRADING_DAYS
        f = self.forward(t)
        k = np.linspace(-6, 6, 2401) * np.sqrt(self.total_variance(np.array([0.0]), t)[0])
        root = np.sqrt(np.maximum(self.total_variance(k, t), 1e-12))
        d2 = -k / root - root / 2
        cdf = ndtr(-d2) + np.exp(-0.5 * d2 * d2) / np.sqrt(2 * np.pi) * self.total_variance_slope(k, t) / (2 * root)
        cdf = np.maximum.accumulate(np.clip(cdf, 0, 1))  # rounding in the far tails
        return np.interp(levels, cdf, k) + np.log(f / self.spot)

    def straddle(self, horizon_sessions: int) -> dict:
        """The at-the-money-forward straddle expiring at the horizon: price, implied move
        (price over spot) and spot Greeks, from the surface's vol there."""
        t = horizon_sessions / TRADING_DAYS
        f = self.forward(t)
        sigma = float(self.vol(f, t))
        r = self.rate(t)
        q = r - np.log(f / self.spot) / t  # the dividend yield the forward implies
        args = (self.spot, f, t, r, sigma, q)
        price = sum(black_scholes_merton(flag, *args) for flag in "cp")
        greeks = {name: float(sum(fn(flag, *args) for flag in "cp"))
                  for name, fn in (("delta", delta), ("gamma", gamma), ("vega", vega), ("theta", theta))}
        return {"strike": f, "years": t, "sigma": sigma, "rate": r, "dividend_yield": float(q), "price": float(price),
                "implied_move": float(price / self.spot), **greeks}


def to_info(surface: Surface, symbol: str, quotes_received: int, fit_seconds: float) -> SurfaceInfo:
    return SurfaceInfo(
        symbol=symbol, as_of=surface.as_of, spot=surface.spot, quotes_received=quotes_received,
        fitted_at=datetime.now(timezone.utc), fit_seconds=fit_seconds, arbitrage=surface.arbitrage(),
        smiles=[SmileInfo(expiry=s.expiry, years=s.t, forward=s.forward, rate=s.rate,
                          atm_vol=float(np.sqrt(s.svi.w(np.array([0.0]))[0] / s.t)), quotes=s.n_quotes,
                          rmse_vol=s.rmse_vol, svi=vars(s.svi)) for s in surface.slices])


def from_info(info: SurfaceInfo) -> Surface:
    """The surface `info` was made from, exactly (floats survive JSON unchanged)."""
    return Surface(info.as_of, info.spot, tuple(
        Slice(s.expiry, s.years, s.forward, s.rate, SVI(**s.svi), s.quotes, s.rmse_vol) for s in info.smiles))


def fit_chain(chain: OptionChain, rate: float) -> SurfaceInfo:
    """An options.quotes chain fitted; `rate` stands in where the chain names none.
    ValueError when no expiry can be fitted."""
    started = time.perf_counter()
    quotes = pd.DataFrame([q.model_dump() for q in chain.quotes])
    surface = fit_surface(quotes, chain.as_of, chain.spot, rate if chain.rate is None else chain.rate)
    return to_info(surface, chain.symbol, len(chain.quotes), time.perf_counter() - started)


def forwards(chain: pd.DataFrame, as_of: date, rate: float) -> pd.DataFrame:
    """(expiry, t, forward, rate) from put-call parity, C - P = D (F - K): D and F fitted
    over the strikes nearest the money quoted both ways, so neither a dividend yield nor
    the expiry's own funding rate is assumed; `rate` stands in where too few strikes are."""
    out = []
    for expiry, g in chain.groupby("expiry"):
        t = (pd.Timestamp(expiry) - pd.Timestamp(as_of)).days / DAYS_PER_YEAR
        both = g.pivot_table(index="strike", columns="right", values="mid").dropna()
        if t <= 0 or len(both) < 3 or not {"C", "P"} <= set(both.columns):
            continue
        near = both.assign(gap=(both["C"] - both["P"]).abs()).nsmallest(PARITY_STRIKES, "gap")
        strikes, diff = near.index.values.astype(float), (near["C"] - near["P"]).values
        slope, intercept = np.polyfit(strikes, diff, 1) if len(near) >= 4 else (-np.exp(-rate * t), np.nan)
        # a discount factor whose rate is within MAX_RATE_GAP of the stand-in, or the stand-in
        fitted = 0 < -slope and abs(-np.log(-slope) / t - rate) <= MAX_RATE_GAP
        d = -slope if fitted else np.exp(-rate * t)
        forward = intercept / d if fitted and np.isfinite(intercept) else float(np.median(strikes + diff / d))
        out.append({"expiry": expiry, "t": t, "forward": float(forward), "rate": float(-np.log(d) / t)})
    return pd.DataFrame(out)


def implied(chain: pd.DataFrame, as_of: date, rate: float) -> pd.DataFrame:
    """The out-of-the-money quotes with their forward, log-moneyness and implied vol;
    quotes whose mid is below intrinsic or above the forward price are dropped."""
    known = forwards(chain, as_of, rate)
    if known.empty:
        raise ValueError(f"no expiry of the chain on {as_of} is quoted both ways: no forward")
    rows = chain.merge(known, on="expiry")  # each expiry with its own forward and rate
    rows = rows[((rows["right"] == "C") & (rows["strike"] >= rows["forward"]))
                | ((rows["right"] == "P") & (rows["strike"] < rows["forward"]))]
    ivs = []
    for r in rows.itertuples():
        try:
            ivs.append(black_iv(r.mid, r.forward, r.strike, r.rate, r.t, r.right.lower()))
        except Exception:  # noqa: BLE001 - vollib refuses prices outside no-arbitrage bounds
            ivs.append(np.nan)
    rows = rows.assign(iv=ivs, k=np.log(rows["strike"] / rows["forward"]))
    rows = rows[np.isfinite(rows["iv"]) & (rows["iv"] > 0.01) & (rows["iv"] < 3)]
    # Beyond about three standard deviations quotes are a tick or two wide of nothing: noise.
    return rows[(rows["k"] / (rows["iv"] * np.sqrt(rows["t"]))).abs() <= MAX_STDEVS].reset_index(drop=True)


def _fit(k: np.ndarray, w: np.ndarray, weight: np.ndarray, t: float, floor: SVI | None) -> SVI:
    def residuals(p):
        svi = SVI(*p)
        fit = (svi.w(k) - w) * weight
        butterfly = np.minimum(svi.g(GRID) - 1e-4, 0) * 1000.0  # a margin: checked on a finer grid
        calendar = np.minimum(svi.w(GRID) - floor.w(GRID) - 1e-5, 0) * 1e4 / t if floor else np.zeros(0)
        return np.concatenate([fit, butterfly, calendar])
    atm = float(np.interp(0.0, np.sort(k), w[np.argsort(k)]))
    bounds = ([-1.0, 1e-6, -0.999, -2.0, 1e-3], [2.0, 5.0, 0.999, 2.0, 5.0])
    fits = [least_squares(residuals, [atm * 0.5, 0.1, rho, 0.0, 0.1], bounds=bounds, method="trf", max_nfev=2000)
            for rho in (-0.7, 0.0)]  # the fit is not convex: two starts
    return SVI(*min(fits, key=lambda f: f.cost).x)


def fit_surface(chain: pd.DataFrame, as_of: date, spot: float, rate: float) -> Surface:
    """chain: expiry, strike, right ('C'/'P'), bid, ask (mid is their average)."""
    chain = chain.assign(mid=(chain["bid"] + chain["ask"]) / 2)
    # A quote wider than its own mid (a tick bid on nothing, far out) says little of its vol.
    chain = chain[(chain["bid"] > 0) & (chain["ask"] >= chain["bid"])
                  & ((chain["ask"] - chain["bid"]) <= MAX_REL_SPREAD * chain["mid"])]
    quotes = implied(chain, as_of, rate)
    slices, floor = [], None
    for expiry, g in quotes.groupby("expiry"):
        t = float(g["t"].iloc[0])
        if t * DAYS_PER_YEAR < MIN_DAYS or len(g) < MIN_QUOTES:
            continue
        w = g["iv"].values ** 2 * t
        weight = np.exp(-0.5 * (g["k"].values / (g["iv"].values * np.sqrt(t))) ** 2) + 0.05  # vega-like
        svi = _fit(g["k"].values, w, weight / weight.max(), t, floor)
        rmse = float(np.sqrt(np.mean((np.sqrt(svi.w(g["k"].values) / t) - g["iv"].values) ** 2)))
        slices.append(Slice(pd.Timestamp(expiry).date(), t, float(g["forward"].iloc[0]), float(g["rate"].iloc[0]),
                            svi, len(g), rmse, g))
        floor = svi
    if not slices:
        raise ValueError(f"no expiry of the chain on {as_of} has {MIN_QUOTES} usable quotes")
    return Surface(as_of, spot, tuple(slices))


def plot_smiles(surface: Surface, path, title: str):
    """Each expiry's market implied vols (points) and its SVI smile (line), by log-moneyness."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(10, 5.5))
    colours = plt.cm.viridis(np.linspace(0, 0.9, len(surface.slices)))
    for s, c in zip(surface.slices, colours):
        k = np.linspace(s.quotes["k"].min(), s.quotes["k"].max(), 200)
        ax.plot(s.quotes["k"], s.quotes["iv"], "o", color=c, markersize=3)
        ax.plot(k, np.sqrt(s.svi.w(k) / s.t), "-", color=c, label=f"{s.expiry} ({s.t * 365:.0f} d)")
    ax.set_xlabel("log-moneyness log(K / F)")
    ax.set_ylabel("implied volatility")
    worst = surface.arbitrage()
    ax.set_title(f"{title}: SVI per expiry; min g {worst['butterfly_min_g']:.1e}, "
                 f"max calendar fall {worst['calendar_max_fall']:.1e}")
    ax.legend(fontsize=8)
    fig.savefig(path, dpi=110, bbox_inches="tight")
    plt.close(fig)
    return path
