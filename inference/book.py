"""A book's return distribution at one horizon: its symbols' served forecasts joined by
the copula, sampled; its quantiles, value-at-risk, expected shortfall and each symbol's
Euler contribution to the VaR.

The same draws serve every request (a fixed seed per book size): a redelivered request
gets the same figures, and two books differ only by what differs between them. Returns are
simple (a book's return is the weighted sum of its symbols'), losses positive.
"""
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from scipy.stats import chi2, norm, t as student

from inference.marginal import Z, at_scores
from schemas import QUANTILES

DRAWS = 10_000  # a 99% tail of 100 draws: a standard error of about 1.6% of the VaR (docs/portfolio.md)
SEED = 20_240_101


@lru_cache(maxsize=8)
def _normals(n: int, m: int) -> tuple[np.ndarray, np.ndarray]:
    """(m, n) standard normals and (m,) uniforms for the Student-t's mixing variable. The
    draws are float32, as the tables read at them are: half the memory traffic, and
    digits far below a sampled VaR's own error."""
    rng = np.random.default_rng([SEED, n])
    e, u = rng.standard_normal((m, n), dtype=np.float32), rng.random(m)
    e.flags.writeable = u.flags.writeable = False
    return e, u


T_STEP = 0.05
# A Student-t's values, uniform: at dof 3, one draw in 10^4 lies beyond and is read at the end.
T_GRID = np.arange(-40.0, 40.0 + T_STEP / 2, T_STEP)


@lru_cache(maxsize=16)
def _t_scores(dof: float) -> np.ndarray:
    """(G,) the normal score of each point of T_GRID under the Student-t's distribution."""
    return np.clip(norm.ppf(student.cdf(T_GRID, dof)), Z[0], Z[-1])


def copula_draws(corr: np.ndarray, dof: float | None, m: int = DRAWS) -> tuple[np.ndarray, float, float]:
    """(m, n) draws of the copula's latent variables, and the uniform grid (start, step)
    tables are read on at them: normal scores for the Gaussian, the Student-t's own values
    for the t."""
    n = len(corr)
    x = _normals(n, m)[0] @ np.linalg.cholesky(corr).T.astype(np.float32)  # (m, n)
    if dof is None:
        return x, Z[0], Z[1] - Z[0]
    return x * _mixing(n, m, dof)[:, None].astype(np.float32), T_GRID[0], T_STEP


@lru_cache(maxsize=16)
def _mixing(n: int, m: int, dof: float) -> np.ndarray:
    """(m,) sqrt(dof / W), W ~ chi-squared(dof): a Student-t is a normal over it."""
    return np.sqrt(dof / chi2.ppf(_normals(n, m)[1], dof))


@dataclass(frozen=True)
class BookRisk:
    horizon: int
    quantiles: np.ndarray  # (Q,) of the book's return at QUANTILES
    mean: float
    volatility: float
    var: np.ndarray  # (L,) positive losses at the levels asked
    es: np.ndarray  # (L,)
    contributions: np.ndarray  # (L, n) each symbol's share of each VaR; rows sum to it
    losses: np.ndarray  # (m,) the drawn losses, for tests and backtests


def book_risk(weights: np.ndarray, tables: np.ndarray, corr: np.ndarray, dof: float | None,
              levels: np.ndarray, horizon: int, m: int = DRAWS) -> BookRisk:
    """weights (n,) of the book's value per symbol (negative: short); tables (n, K) each
    symbol's served log-return quantiles on the score grid (inference.marginal.table);
    corr (n, n) the copula's correlation at this horizon."""
    x, start, step = copula_draws(corr, dof, m)  # (m, n)
    if dof is not None:  # the tables again, on the Student-t's grid
        tables = at_scores(tables, np.broadcast_to(_t_scores(dof)[:, None], (len(T_GRID), len(tables)))).T
    # (m, n) each position's simple return, as a fraction of the book
    gains = np.expm1(at_scores(tables.astype(np.float32), x, start, step)) * weights.astype(np.float32)
    loss = -gains.sum(axis=1)  # (m,)
    order = np.argsort(loss)
    var = np.empty(len(levels))
    es = np.empty(len(levels))
    contrib = np.empty((len(levels), len(weights)))
    for j, c in enumerate(levels):
        k = min(int(np.floor(c * m)), m - 1)  # the VaR is the (k+1)-th smallest loss
        var[j] = loss[order[k]]
        es[j] = loss[order[k:]].mean()
        # Euler: each position's expected loss given the book's loss is at its VaR, read on
        # the draws nearest it (a band of 2% of them, as wide as the tail allows on both
        # sides), then scaled so that they sum to the VaR exactly.
        half = max(1, min(m // 100, k, m - 1 - k))
        near = order[k - half:k + half + 1]
        share = -gains[near].mean(axis=0, dtype=np.float64)
        total = share.sum()
        contrib[j] = share * (var[j] / total) if abs(total) > 1e-12 else var[j] / len(weights)
    gain = -loss
    return BookRisk(horizon, np.quantile(gain, QUANTILES), float(gain.mean()), float(gain.std()), var, es, contrib,
                    loss)
