"""Live validation scores a forecast as `tft-forecast evaluate` scores a backtest row, and
settles it on the bar `horizon` sessions later in the symbol's own bars."""
import numpy as np
import orjson
import pandas as pd
import pytest

from inference.baseline import RandomWalkForecaster
from inference.config import InferenceConfig
from inference.service import ForecastService
from inference.validation import NEVER, outcome, score
from persistence.repositories.forecast_metrics import rows as metric_rows
from schemas import ForecastRequest
from tests.helpers import NO_CONTEXT, window_of
from tft.evaluate import QCOLS
from tft.evaluate import score as evaluate_score

def test_the_outcome_is_the_bar_horizon_sessions_later_not_calendar_days(panel):
    w = window_of(panel, "SPY", "2023-12-29", 300)
    # 2023-11-22 is the day before Thanksgiving: five sessions on is 2023-11-30, eight calendar days later
    o = outcome(w, pd.Timestamp("2023-11-22").date(), 5)
    assert str(o.target_date) == "2023-11-30"
    spy = panel[panel["symbol"] == "SPY"].set_index("date")["close"]
    assert o.actual == pytest.approx(spy[pd.Timestamp("2023-11-30")])
    assert outcome(w, pd.Timestamp("2023-12-28").date(), 5) is None  # its bar has not come yet
    assert outcome(w, pd.Timestamp("2023-11-23").date(), 1) is NEVER  # a holiday: no forecast was made on it
    assert outcome(w, pd.Timestamp("2019-01-02").date(), 1) is NEVER  # long gone from the window


async def test_scores_equal_what_evaluate_computes_for_the_same_forecasts(panel):
    svc = ForecastService(RandomWalkForecaster(21), InferenceConfig(max_wait_ms=1))
    end = window_of(panel, "SPY", "2023-12-29", 400)
    days = [d.astype(object) for d in end.dates[-120:-30]]
    forecasts, outcomes = [], []
    for i, day in enumerate(days):
        req = ForecastRequest(symbol="SPY", request_id=f"v{i}")
        result = (await svc.forecast(req, f"v{i}", window_of(panel, "SPY", str(day), 300), NO_CONTEXT)).result
        for r in metric_rows(result, float(window_of(panel, "SPY", str(day), 1).close[-1])):
            f = dict(zip(["request_id", "horizon", "symbol", "as_of", "model_version", "last_close", "point",
                          *QCOLS, "intervals"], r[:13]))
            f["intervals"] = orjson.loads(f["intervals"])
            forecasts.append(f)
            outcomes.append(outcome(end, f["as_of"], f["horizon"]))
    rows = [score(f, o) for f, o in zip(forecasts, outcomes)]
    frame = pd.DataFrame([{**f, "close": f["last_close"], "y": np.log(o.actual / f["last_close"]),
                           "rw_sigma": o.rw_sigma, "p_up": 0.5, "date": f["as_of"]}
                          for f, o in zip(forecasts, outcomes)])
    for h in (1, 5, 10, 21):
        mine = [r for r in rows if r[1] == h]
        theirs = evaluate_score(frame[frame["horizon"] == h])
        assert np.mean([r[6] for r in mine]) == pytest.approx(theirs["pinball"], rel=1e-9)
        assert np.mean([r[14] for r in mine]) == pytest.approx(theirs["rw_pinball"], rel=1e-9)
        assert np.mean([r[12] for r in mine]) == pytest.approx(theirs["dir_acc"], rel=1e-9)
        assert np.mean([r[7] for r in mine]) == pytest.approx(theirs["cover_68"], rel=1e-9)
        assert np.mean([r[15] for r in mine]) == pytest.approx(theirs["rw_cover_68"], rel=1e-9)
        assert np.mean([r[8] for r in mine]) == pytest.approx(theirs["cover_95"], rel=1e-9)
        assert np.mean([r[5] for r in mine]) * 100 == pytest.approx(theirs["mape_pct"], rel=1e-9)
        assert np.sqrt(np.mean([r[11] ** 2 for r in mine])) == pytest.approx(theirs["rmse"], rel=1e-9)
    # the requested intervals, as served, held or not
    assert all(set(r[13]) == {"0.68", "0.95"} for r in rows)
