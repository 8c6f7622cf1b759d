"""A Gaussian HMM over the market's daily return and its realized volatility.

States get names after fitting, from what they hold: the most volatile state is
Crisis; of the others, the highest mean return is Bull, the lowest Bear, the one
between Sideways. The probability of each regime on a day uses only that day and
earlier ones (the last row of a forward-backward pass over a window has no future).
"""
import warnings
from dataclasses import dataclass

import numpy as np
from hmmlearn.hmm import GaussianHMM

from features import rolling

REGIMES = ("Bull", "Bear", "Sideways", "Crisis")
VOL_WINDOW = 21


@dataclass(frozen=True)
class RegimeConfig:
    n_iter: int = 200
    seed: int = 7
    min_days: int = 500  # history needed to fit


def observations(close: np.ndarray) -> np.ndarray:
    """(T, 2): daily log return (%) and log of 21-day realized volatility; rows before
    the volatility is defined are dropped, so the result is shorter than `close`."""
    r = np.diff(np.log(close), prepend=np.nan)
    vol = rolling.std(r, VOL_WINDOW)
    obs = np.column_stack([r * 100, np.log(vol * np.sqrt(252))])
    return obs[np.isfinite(obs).all(axis=1)]


@dataclass(frozen=True)
class RegimeModel:
    hmm: GaussianHMM
    labels: tuple[str, ...]  # regime name of each hidden state

    def probabilities(self, close: np.ndarray) -> dict[str, float]:
        """P(regime) on the last day of `close`."""
        obs = observations(close)
        if len(obs) == 0:
            raise ValueError(f"need more than {VOL_WINDOW} closes to place the market in a regime")
        post = self.hmm.predict_proba(obs)[-1]
        out = dict.fromkeys(REGIMES, 0.0)
        for state, p in enumerate(post):
            out[self.labels[state]] += float(p)
        return out

    def to_dict(self) -> dict:
        h = self.hmm
        return {"labels": list(self.labels), "startprob": h.startprob_.tolist(),
                "transmat": h.transmat_.tolist(), "means": h.means_.tolist(), "covars": h.covars_.tolist()}

    @classmethod
    def from_dict(cls, d: dict) -> "RegimeModel":
        h = GaussianHMM(n_components=len(d["labels"]), covariance_type="full")
        h.startprob_ = np.asarray(d["startprob"])
        h.transmat_ = np.asarray(d["transmat"])
        h.means_ = np.asarray(d["means"])
        h.covars_ = np.asarray(d["covars"])
        h.n_features = h.means_.shape[1]
        return cls(h, tuple(d["labels"]))


def fit(close: np.ndarray, config: RegimeConfig = RegimeConfig()) -> RegimeModel:
    obs = observations(close)
    if len(obs) < config.min_days:
        raise ValueError(f"{len(obs)} days are too few to fit regimes; need {config.min_days}")
    hmm = GaussianHMM(n_components=len(REGIMES), covariance_type="full", n_iter=config.n_iter,
                      random_state=config.seed)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # hmmlearn reports non-monotone EM steps as warnings
        hmm.fit(obs)
    return RegimeModel(hmm, name_states(hmm.means_))


def name_states(means: np.ndarray) -> tuple[str, ...]:
    """means (S, 2) of (return, log vol) -> a regime name per state."""
    crisis = int(np.argmax(means[:, 1]))
    rest = sorted((s for s in range(len(means)) if s != crisis), key=lambda s: means[s, 0])
    labels = [""] * len(means)
    labels[crisis], labels[rest[0]], labels[rest[-1]] = "Crisis", "Bear", "Bull"
    for s in rest[1:-1]:
        labels[s] = "Sideways"
    return tuple(labels)
