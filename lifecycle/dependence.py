"""The copula beside a model: fitted on the outcomes of the model's own forecasts over
the sessions before `end`, for the symbols it was trained on, as the retraining job does
for every candidate (a symbol it holds nothing for is served as independent). The family is
chosen by the same walk-forward rule as the backtest's, on the last year of them."""
import numpy as np

from features.data import MarketData
from inference.adaptive import adapt
from inference.dependence import DOFS, HALFLIFE, Dependence, EwmaCorrelation, choose
from inference.pit import outcome_scores
from tft.artifact import Artifact
from tft.backtest import backtest
from tft.evaluate import attach_outcomes

SESSIONS = 500  # origins behind a fit: two years, four of the correlation's half-lives
CHOICE_SESSIONS = 250  # the last of them, on which the family is chosen


def fit(data: MarketData, art: Artifact, end: str | None = None, sessions: int = SESSIONS) -> Dependence:
    days = np.sort(data.panel["date"].unique())
    if end is not None:
        days = days[days <= np.datetime64(end)]
    start = str(days[-sessions - max(art.spec.horizons)])[:10]
    df = adapt(attach_outcomes(backtest(data, art, start, str(days[-1])[:10], list(art.spec.symbols),
                                              progress=False), data.panel))
    zs = {h: outcome_scores(df, h) for h in art.spec.horizons}
    symbols = sorted(set.intersection(*(set(z.columns) for z in zs.values())))
    z1 = zs[min(zs)][symbols].values
    dof = choose(z1, 1, (HALFLIFE,), DOFS, score_from=max(0, len(z1) - CHOICE_SESSIONS))["best"][1]
    corr, shrink = {}, {}
    for h, z in zs.items():
        state = EwmaCorrelation(len(symbols), HALFLIFE)
        for row in z[symbols].values:
            state.update(row)
        corr[h], shrink[h] = state.correlation()
    return Dependence(tuple(symbols), days[-1].astype("datetime64[D]").item(), dof, HALFLIFE, corr, shrink,
                      art.version)
