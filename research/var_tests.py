"""The backtests banks run on Value-at-Risk and expected-shortfall forecasts, and the two
baseline models they are run beside. Losses are positive (loss = -return), VaR and ES at a
level c are positive losses, and a breach is a day whose loss exceeds its VaR.

- Kupiec (1995), unconditional coverage: do breaches come at the rate 1 - c?
- Christoffersen (1998), independence: is a breach after a breach likelier than after a
  quiet day? Conditional coverage asks both questions at once.
- Acerbi & Szekely (2014), Z2: are the losses beyond VaR as large as ES says? Its p-value
  comes from simulating each day's loss from the model's own predictive distribution.
- The tick (pinball) loss: not a test but a score, lower for the better VaR.

Baselines: historical simulation, and RiskMetrics (J.P. Morgan/Reuters, RiskMetrics -
Technical Document, 1996): an EWMA covariance with lambda 0.94 and normal, zero-mean returns.
"""
from dataclasses import dataclass

import numpy as np
from scipy.signal import lfilter
from scipy.special import xlogy
from scipy.stats import chi2, norm

PASS = 0.05  # the tests' size


@dataclass(frozen=True)
class Verdict:
    stat: float
    p_value: float

    @property
    def passed(self) -> bool:
        return self.p_value > PASS


@dataclass(frozen=True)
class Forecasts:
    """var, es: (days, levels); draws: (days, M) equally likely losses the model predicts for
    each day, which the expected-shortfall test simulates from."""
    var: np.ndarray
    es: np.ndarray
    draws: np.ndarray


def _loglik(quiet: int, breached: int) -> float:
    """The counts' Bernoulli log-likelihood at their own rate; xlogy takes 0 log 0 as 0, so a
    rate of 0 or 1 has likelihood 1 rather than NaN."""
    n = quiet + breached
    return 0.0 if n == 0 else float(xlogy(quiet, quiet / n) + xlogy(breached, breached / n))


def _chi2(stat: float, dof: int) -> Verdict:
    stat = max(float(stat), 0.0)  # a likelihood ratio of exactly 1 can come out of the subtraction as -1e-16
    return Verdict(stat, float(chi2.sf(stat, dof)))


def kupiec(breaches: np.ndarray, level: float) -> Verdict:
    """Unconditional coverage: the likelihood ratio of the observed breach rate against
    1 - level, chi2(1)."""
    b = np.asarray(breaches, bool)
    x, n, p = int(b.sum()), b.size, 1 - level
    return _chi2(2 * (_loglik(n - x, x) - xlogy(n - x, 1 - p) - xlogy(x, p)), 1)


def christoffersen(breaches: np.ndarray) -> Verdict:
    """Independence: the likelihood ratio of a first-order Markov chain of breaches (one rate
    after a quiet day, one after a breach) against a single rate, chi2(1). With no breach, or
    none followed by another day, both fit alike: stat 0, p 1."""
    b = np.asarray(breaches, bool)
    before, after = b[:-1], b[1:]
    n00, n01 = int(np.sum(~before & ~after)), int(np.sum(~before & after))
    n10, n11 = int(np.sum(before & ~after)), int(np.sum(before & after))
    return _chi2(2 * (_loglik(n00, n01) + _loglik(n10, n11) - _loglik(n00 + n10, n01 + n11)), 1)


def conditional_coverage(breaches: np.ndarray, level: float) -> Verdict:
    """Both at once: LR_uc + LR_ind, chi2(2)."""
    return _chi2(kupiec(breaches, level).stat + christoffersen(breaches).stat, 2)


def _z2(losses: np.ndarray, var: np.ndarray, es: np.ndarray, level: float) -> np.ndarray:
    """Z2 over the last axis, so that a (sims, days) array of histories is scored at once."""
    return 1 - np.sum(losses * (losses > var) / es, axis=-1) / (losses.shape[-1] * (1 - level))


def acerbi_szekely(losses: np.ndarray, var: np.ndarray, es: np.ndarray, level: float, draws: np.ndarray,
                   sims: int = 2000, seed: int = 0) -> Verdict:
    """Acerbi and Szekely's Z2, 1 - sum_t L_t 1{L_t > VaR_t} / ES_t / (T (1 - level)): 0 in
    expectation when the forecasts are right, negative when the tail is worse than ES says.
    The p-value is one-sided, the share of Z2 no greater than the observed in `sims` histories
    drawn one loss a day from `draws` (days, M), the model's own predictive losses; that
    corrects for a model whose VaR and ES are not exactly those of its draws (historical
    simulation's discrete quantile, for one)."""
    losses, var, es, draws = (np.asarray(a, float) for a in (losses, var, es, draws))
    observed = float(_z2(losses, var, es, level))
    pick = np.random.default_rng(seed).integers(0, draws.shape[1], size=(sims, len(losses)))
    simulated = _z2(draws[np.arange(len(losses)), pick], var, es, level)
    return Verdict(observed, float(np.mean(simulated <= observed)))


def tick_loss(losses: np.ndarray, var: np.ndarray, level: float) -> float:
    """The mean quantile (pinball) loss of VaR as the level-quantile of the loss; the true
    quantile minimises its expectation."""
    u = np.asarray(losses, float) - np.asarray(var, float)
    return float(np.mean(u * (level - (u < 0))))


def historical_simulation(history: np.ndarray, levels: np.ndarray) -> Forecasts:
    """history: (days, W) the W past h-day book losses known at each day. VaR is the row's
    level-quantile on the high side where it falls between two losses (method="higher"): of
    W = 250, the 3rd largest at 99% and the 13th at 95%. ES is the mean of the row's losses
    at or above VaR; the draws are the row itself."""
    h = np.asarray(history, float)
    var = np.quantile(h, np.asarray(levels, float), axis=1, method="higher").T
    tail = h[:, None, :] >= var[:, :, None]
    es = np.sum(h[:, None, :] * tail, axis=2) / np.sum(tail, axis=2)
    return Forecasts(var, es, h)


def riskmetrics(returns: np.ndarray, weights: np.ndarray, horizon: int, levels: np.ndarray, lam: float = 0.94,
                warmup: int = 250, draws: int = 1000) -> Forecasts:
    """returns: (N, K) daily asset returns; weights: (K,). The covariance starts as the mean of
    r r' over days 0..warmup-1 (about a zero mean, as the recursion assumes) and is updated
    S_t = lam S_{t-1} + (1 - lam) r_t r_t' from day warmup on. Row i is the forecast made at the
    close of day warmup + i, with that day's return in it, for the `horizon` days after it:
    N - warmup rows, for days warmup..N-1. The book's loss is normal, zero-mean, with
    sigma = sqrt(horizon w'S_t w); the draws are its M = `draws` quantiles at (i + 0.5) / M."""
    r, w, levels = np.asarray(returns, float), np.asarray(weights, float), np.asarray(levels, float)
    book2 = (r @ w) ** 2
    start = book2[:warmup].mean()
    # With fixed weights, w'S_t w = lam w'S_{t-1} w + (1 - lam) (w'r_t)^2: the covariance's recursion
    # needs tracking only through the book.
    variance, _ = lfilter([1 - lam], [1, -lam], book2[warmup:], zi=[lam * start])
    sigma = np.sqrt(horizon * variance)[:, None]
    z = norm.ppf(levels)
    grid = norm.ppf((np.arange(draws) + 0.5) / draws)
    return Forecasts(sigma * z, sigma * norm.pdf(z) / (1 - levels), sigma * grid)
