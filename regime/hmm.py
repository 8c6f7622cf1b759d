"""Regimes from Gaussian HMMs (hmmlearn), one per asset class, each fitted on the pooled
observations of its symbols and applied to every symbol's own (regime/book.py).

The number of hidden states is chosen by BIC among `RegimeConfig.states`. States are
named by their mean volatility (observation column 1), never by the order EM found them
in, so that a refit keeps the names (a test refits on a longer history with another
seed): the calmest state is Bull, the most volatile Crisis, and those between are, in
order of rising volatility, Sideways (the calmer half, and a lone one) then Bear. Mean
daily returns are not used: they differ between states by a hundredth of a daily
standard deviation, less than their own noise, and ranking by them swapped names between
refits. Volatility is what the states are told apart by, and in equities it rises as
prices fall (the leverage effect), which is what the names say.

Several states may share a name; a regime's probability is the sum of its states'.
Online use takes filtered probabilities only, P(state on day t | days up to t): the
forward pass, never the smoothed forward-backward one.
"""
import warnings
from dataclasses import dataclass
from functools import cached_property

import numpy as np
from hmmlearn.hmm import GaussianHMM
from scipy.special import logsumexp

REGIMES = ("Bull", "Bear", "Sideways", "Crisis")


@dataclass(frozen=True)
class RegimeConfig:
    states: tuple[int, ...] = (2, 3, 4)  # candidates; BIC picks one per asset class
    n_iter: int = 100
    seed: int = 7
    min_days: int = 500  # pooled observations needed to fit a class
    max_series: int = 10  # REGIME_MAX_SERIES: symbols of a class pooled for its fit, evenly spread


@dataclass(frozen=True)
class RegimeModel:
    hmm: GaussianHMM
    labels: tuple[str, ...]  # regime name of each hidden state
    bic: dict[int, float]  # of each candidate number of states, for the record

    @cached_property
    def _gaussians(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Each state's mean (S, F), inverse Cholesky factor (S, F, F) and log-determinant (S,)."""
        chol = np.linalg.cholesky(self.hmm.covars_)
        return self.hmm.means_, np.linalg.inv(chol), 2 * np.log(np.diagonal(chol, axis1=1, axis2=2)).sum(axis=1)

    def _log_emission(self, obs: np.ndarray) -> np.ndarray:
        """(T, S) log density of each day's observation (T, F) in each state."""
        means, inv, logdet = self._gaussians
        z = np.einsum("sij,tsj->tsi", inv, obs[:, None, :] - means[None])  # (T, S, F)
        return -0.5 * ((z * z).sum(axis=-1) + logdet + obs.shape[1] * np.log(2 * np.pi))

    def step(self, before: np.ndarray, obs: np.ndarray) -> np.ndarray:
        """(S,) the filtered probabilities one day on, from the day before's (S,) and the
        new day's observation (F,): one step of the forward pass."""
        with np.errstate(divide="ignore"):
            alpha = np.log(before @ self.hmm.transmat_) + self._log_emission(obs[None])[0]
        p = np.exp(alpha - alpha.max())
        return p / p.sum()

    def filtered(self, obs: np.ndarray) -> np.ndarray:
        """(T, S) P(state on day t | obs up to t) for obs (T, F), a forward pass started
        from the model's initial distribution."""
        h = self.hmm
        log_b = self._log_emission(obs)  # (T, S)
        with np.errstate(divide="ignore"):  # a transition EM drove to 0 is log 0 = -inf, which is right
            log_a, log_start = np.log(h.transmat_), np.log(h.startprob_)
        out = np.empty_like(log_b)
        alpha = log_start + log_b[0]
        out[0] = alpha - logsumexp(alpha)
        for t in range(1, len(obs)):
            alpha = logsumexp(out[t - 1][:, None] + log_a, axis=0) + log_b[t]
            out[t] = alpha - logsumexp(alpha)
        return np.exp(out)

    def last(self, obs: np.ndarray) -> np.ndarray:
        """(S,) the filtered probabilities of the last day: the last row of `filtered`, from
        hmmlearn's compiled pass (the last row of forward-backward has no future in it)."""
        return self.hmm.predict_proba(obs)[-1]

    def by_regime(self, state_probs: np.ndarray) -> dict[str, float]:
        """(S,) -> {regime: probability} over all four names."""
        out = dict.fromkeys(REGIMES, 0.0)
        for state, p in enumerate(state_probs):
            out[self.labels[state]] += float(p)
        return out

    def to_dict(self) -> dict:
        h = self.hmm
        return {"labels": list(self.labels), "bic": {str(k): v for k, v in self.bic.items()},
                "startprob": h.startprob_.tolist(), "transmat": h.transmat_.tolist(),
                "means": h.means_.tolist(), "covars": h.covars_.tolist()}

    @classmethod
    def from_dict(cls, d: dict) -> "RegimeModel":
        h = GaussianHMM(n_components=len(d["labels"]), covariance_type="full")
        h.startprob_ = np.asarray(d["startprob"])
        h.transmat_ = np.asarray(d["transmat"])
        h.means_ = np.asarray(d["means"])
        h.covars_ = np.asarray(d["covars"])
        h.n_features = h.means_.shape[1]
        return cls(h, tuple(d["labels"]), {int(k): v for k, v in d.get("bic", {}).items()})


def fit(sequences: list[np.ndarray], config: RegimeConfig = RegimeConfig()) -> RegimeModel:
    """One model over the sequences (each (T_i, F), one symbol's days in order), the number
    of states chosen by BIC."""
    obs = np.concatenate(sequences)
    lengths = [len(s) for s in sequences]
    if len(obs) < config.min_days:
        raise ValueError(f"{len(obs)} days are too few to fit regimes; need {config.min_days}")
    fitted = {}
    for n in config.states:
        hmm = GaussianHMM(n_components=n, covariance_type="full", n_iter=config.n_iter, random_state=config.seed)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # hmmlearn reports non-monotone EM steps as warnings
            hmm.fit(obs, lengths)
        fitted[n] = (hmm.bic(obs, lengths), hmm)
    best = min(fitted, key=lambda n: fitted[n][0])
    hmm = fitted[best][1]
    return RegimeModel(hmm, name_states(hmm.means_), {n: float(b) for n, (b, _) in fitted.items()})


def name_states(means: np.ndarray) -> tuple[str, ...]:
    """means (S, F), columns (return, volatility, ...) -> a regime name per state."""
    order = np.argsort(means[:, 1], kind="stable")  # calmest first
    middle = len(order) - 2
    names = ["Bull", *["Sideways"] * ((middle + 1) // 2), *["Bear"] * (middle // 2), "Crisis"][-len(order):]
    if len(order) == 1:
        names = ["Bull"]
    labels = [""] * len(order)
    for name, state in zip(names, order):
        labels[state] = name
    return tuple(labels)
