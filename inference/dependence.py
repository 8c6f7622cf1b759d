"""How a book's symbols move together: a Gaussian or Student-t copula over the normal
scores of past outcomes under their own forecasts.

Each symbol's forecast already carries its own volatility, so the copula is fitted on
the probability integral transforms of outcomes under those forecasts (as normal
scores), never on raw returns: the marginals' errors are not counted twice. The
correlation moves with the market as an exponentially weighted average of the scores'
products, shrunk toward independence by the Ledoit-Wolf intensity of the recent scores
(55 symbols need more days than an EWMA of a few months holds). A day's scores at
horizon h are known only once its outcomes are, h sessions later, and enter then.

The family and the half-life are chosen walk-forward, by the predictive log-likelihood
of each day's scores under the copula as it stood before them. It is one artifact beside
the model (`<model>.dependence.json`), refitted with it.
"""
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import numpy as np
from scipy.special import gammaln
from scipy.stats import norm, t as student

DOFS = (None, 30.0, 15.0, 10.0, 7.0, 5.0, 4.0, 3.0)  # None: Gaussian; else the Student-t's degrees of freedom
HALFLIFE = 126.0  # sessions: half a year, the likelihood's choice on the validation year 2021 (docs/portfolio.md)


@dataclass
class EwmaCorrelation:
    """The running correlation of n symbols' scores; a missing score (NaN) leaves its
    pairs' sums alone, so symbols that start later join when they start."""

    n: int
    halflife: float = HALFLIFE
    shrink_rows: int = 250  # the recent rows the Ledoit-Wolf intensity is read from
    s: np.ndarray = field(init=False)  # (n, n) weighted sums of products
    w: np.ndarray = field(init=False)  # (n, n) their weights
    recent: list = field(init=False, default_factory=list)

    def __post_init__(self):
        self.s, self.w = np.zeros((self.n, self.n)), np.zeros((self.n, self.n))

    def update(self, z: np.ndarray) -> None:
        decay = 0.5 ** (1.0 / self.halflife)
        seen = np.isfinite(z)
        v = np.where(seen, z, 0.0)
        self.s = decay * self.s + np.outer(v, v)
        self.w = decay * self.w + np.outer(seen, seen)
        self.recent = [*self.recent[-(self.shrink_rows - 1):], v]

    def shrinkage(self) -> float:
        if len(self.recent) < 2:
            return 1.0
        from sklearn.covariance import ledoit_wolf_shrinkage  # a second's import, paid by fits only
        return float(ledoit_wolf_shrinkage(np.array(self.recent), assume_centered=True))

    def correlation(self) -> tuple[np.ndarray, float]:
        """(n, n) the shrunk correlation, positive definite, and the intensity used."""
        cov = np.divide(self.s, self.w, out=np.zeros_like(self.s), where=self.w > 0)
        sd = np.sqrt(np.diag(cov))
        ok = sd > 0
        corr = np.eye(self.n)
        corr[np.ix_(ok, ok)] = cov[np.ix_(ok, ok)] / np.outer(sd[ok], sd[ok])
        delta = self.shrinkage()
        return nearest(np.clip((1 - delta) * corr + delta * np.eye(self.n), -1, 1)), delta


def nearest(c: np.ndarray, floor: float = 1e-4) -> np.ndarray:
    """The correlation matrix nearest `c` with eigenvalues at least `floor`."""
    vals, vecs = np.linalg.eigh((c + c.T) / 2)
    c = (vecs * np.maximum(vals, floor)) @ vecs.T
    d = np.sqrt(np.diag(c))
    return c / np.outer(d, d)


def loglik(z: np.ndarray, corr: np.ndarray, dof: float | None) -> float:
    """The copula's log density at one day's scores z (n,), over the symbols present."""
    seen = np.isfinite(z)
    if seen.sum() < 2:
        return 0.0
    z, c = z[seen], corr[np.ix_(seen, seen)]
    n = len(z)
    sign, logdet = np.linalg.slogdet(c)
    if dof is None:
        return float(-0.5 * logdet - 0.5 * z @ (np.linalg.solve(c, z) - z))
    x = student.ppf(norm.cdf(z), dof)
    quad = x @ np.linalg.solve(c, x)
    return float(gammaln((dof + n) / 2) + (n - 1) * gammaln(dof / 2) - n * gammaln((dof + 1) / 2) - 0.5 * logdet
                 - (dof + n) / 2 * np.log1p(quad / dof) + (dof + 1) / 2 * np.sum(np.log1p(x * x / dof)))


def walk(z: np.ndarray, horizon: int, halflife: float = HALFLIFE) -> Iterator[tuple[int, np.ndarray, float]]:
    """z (T, n): the scores of the forecasts made on T successive sessions at `horizon`
    -> for each session i, (i, the correlation as it stood at i's close, its shrinkage):
    built from the rows of sessions up to i - horizon, whose outcomes were known by then."""
    state = EwmaCorrelation(z.shape[1], halflife)
    for i in range(len(z)):
        if i >= horizon:
            state.update(z[i - horizon])
        yield (i, *state.correlation())


def choose(z: np.ndarray, horizon: int, halflives: tuple[float, ...] = (HALFLIFE,),
           dofs: tuple = DOFS, score_from: int = 0) -> dict:
    """Each (half-life, dof)'s summed predictive log-likelihood over the sessions from
    `score_from`, every day scored under the copula of the day before its scores were
    known: {"best": (halflife, dof), "loglik": {(halflife, dof): total}}. Days h apart
    only, so that no outcome is counted twice at h > 1."""
    totals = {}
    for hl in halflives:
        for i, corr, _ in walk(z, horizon, hl):
            if i >= score_from and (i - score_from) % horizon == 0:
                for dof in dofs:
                    totals[(hl, dof)] = totals.get((hl, dof), 0.0) + loglik(z[i], corr, dof)
    return {"best": max(totals, key=totals.get), "loglik": totals}


@dataclass(frozen=True)
class Dependence:
    """The copula a book is joined by: its family and, per horizon, the correlation of
    `symbols` as of `as_of`."""

    symbols: tuple[str, ...]
    as_of: date
    dof: float | None  # None: Gaussian
    halflife: float
    correlation: dict[int, np.ndarray]  # horizon -> (n, n)
    shrinkage: dict[int, float]  # horizon -> the Ledoit-Wolf intensity applied
    model_version: str = ""  # the model whose forecasts' outcomes it was fitted on

    @property
    def family(self) -> str:
        return "gaussian" if self.dof is None else "t"

    def of(self, symbols: list[str], horizon: int) -> tuple[np.ndarray, list[str]]:
        """(k, k) the correlation of `symbols` at `horizon`, and those it holds nothing for
        (uncorrelated with the rest)."""
        at = {s: i for i, s in enumerate(self.symbols)}
        corr, missing = np.eye(len(symbols)), [s for s in symbols if s not in at]
        known = [j for j, s in enumerate(symbols) if s in at]
        idx = [at[symbols[j]] for j in known]
        corr[np.ix_(known, known)] = self.correlation[horizon][np.ix_(idx, idx)]
        return corr, missing

    def to_json(self) -> dict:
        return {"symbols": list(self.symbols), "as_of": str(self.as_of), "dof": self.dof, "halflife": self.halflife,
                "model_version": self.model_version, "shrinkage": {str(h): v for h, v in self.shrinkage.items()},
                "correlation": {str(h): np.round(c, 6).tolist() for h, c in self.correlation.items()}}

    @classmethod
    def from_json(cls, d: dict) -> "Dependence":
        return cls(tuple(d["symbols"]), date.fromisoformat(d["as_of"]), d["dof"], d["halflife"],
                   {int(h): nearest(np.asarray(c, dtype=float)) for h, c in d["correlation"].items()},
                   {int(h): v for h, v in d["shrinkage"].items()}, d.get("model_version", ""))


def path_beside(model_path: Path) -> Path:
    return model_path.with_suffix(".dependence.json")


def save(dep: Dependence, model_path: Path) -> Path:
    path = path_beside(model_path)
    path.write_text(json.dumps(dep.to_json()))
    return path


def load(model_path: Path) -> Dependence | None:
    path = path_beside(model_path)
    return Dependence.from_json(json.loads(path.read_text())) if path.exists() else None
