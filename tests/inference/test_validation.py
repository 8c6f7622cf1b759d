"""Live validation scores a forecast as `tft-forecast evaluate` scores a backtest row, and
settles it on the bar `horizon` sessions later in the symbol's own bars."""
import numpy as np
import orjson
import pandas as pd
import pytest

from inference.baseline import RandomWalkForecaster
from inference.config import InferenceConfig
from inference.service import ForecastService
from inference.validation import NEVER, as_of_inputs, outcome, score, shadow_score
from persistence.repositories.forecast_metrics import rows as metric_rows
from schemas import ForecastRequest
from tests.helpers import NO_CONTEXT, window_of
from tft.evaluate import QCOLS
from tft.evaluate import score as evaluate_score


def served_rows(result, last_close: float) -> list[dict]:
    """A result's forecast_metrics rows as the scorer reads them back."""
    names = ["request_id", "horizon", "symbol", "as_of", "model_version", "last_close", "point", *QCOLS, "intervals"]
    rows = [dict(zip(names, r[:13]), interval_scale=r[-1]) for r in metric_rows(result, last_close)]
    return [f | {"intervals": orjson.loads(f["intervals"])} for f in rows]


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
    # a window still being filled (a restart seeding it) has not reached the day: wait
    assert outcome(window_of(panel, "SPY", "2023-06-30", 300), pd.Timestamp("2023-11-22").date(), 5) is None


async def test_scores_equal_what_evaluate_computes_for_the_same_forecasts(panel):
    svc = ForecastService(RandomWalkForecaster(21), InferenceConfig(max_wait_ms=1))
    end = window_of(panel, "SPY", "2023-12-29", 400)
    days = [d.astype(object) for d in end.dates[-120:-30]]
    forecasts, outcomes = [], []
    for i, day in enumerate(days):
        req = ForecastRequest(symbol="SPY", request_id=f"v{i}")
        result = (await svc.forecast(req, f"v{i}", window_of(panel, "SPY", str(day), 300), NO_CONTEXT)).result
        for f in served_rows(result, float(window_of(panel, "SPY", str(day), 1).close[-1])):
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


async def test_a_shadow_forecast_cut_at_the_day_scores_as_the_one_served_that_day(panel):
    """The predecessor is scored from the window as it stood on the forecast's day, spread
    by the served forecast's risk adjustment: the same model there gives the served
    forecast's loss and coverage exactly, adjusted or not."""
    model = RandomWalkForecaster(21)
    svc = ForecastService(model, InferenceConfig(max_wait_ms=1))
    end = window_of(panel, "SPY", "2023-12-29", 400)
    scales = set()
    for i, day in enumerate(d.astype(object) for d in end.dates[-90:-25:8]):
        served = window_of(panel, "SPY", str(day), 300)
        cut, ctx = as_of_inputs(end, NO_CONTEXT, day)
        assert cut.last_date == day and len(cut) == int((end.dates <= np.datetime64(day)).sum())
        (dist,) = model.predict([(cut, ctx)])
        for adjusted in (True, False):
            request = ForecastRequest(symbol="SPY", risk_adjustment=adjusted)
            result = (await svc.forecast(request, f"s{i}", served, NO_CONTEXT)).result
            for f in served_rows(result, float(served.close[-1])):
                scales.add(f["interval_scale"])
                came = outcome(end, day, f["horizon"])
                mine, theirs = shadow_score("rw", f, dist, came), score(f, came)
                assert mine[:3] == (f"s{i}", f["horizon"], "rw")
                assert mine[3] == pytest.approx(theirs[6], rel=1e-9)  # pinball
                assert mine[4:] == theirs[7:9]  # the 68% and 95% intervals held alike
    assert 1.0 in scales and max(scales) > 1.0  # both kinds of forecast were checked
