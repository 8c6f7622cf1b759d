"""Settling scores each distinct forecast of a key once, and gives every request its row."""
import datetime as dt

from inference.validation import Outcome, score
from lifecycle.settle import once_per_forecast


def forecast(request_id: str, point: float, version: str = "v1") -> dict:
    return {"request_id": request_id, "horizon": 5, "symbol": "SPY", "model_version": version, "last_close": 100.0,
            "point": point, "q10": 95.0, "q25": 98.0, "q50": point, "q75": 102.0, "q90": 105.0,
            "intervals": {"0.68": [97.0, 103.0]}, "interval_scale": 1.0}


def test_a_forecast_served_again_and_again_is_scored_once_and_each_request_keeps_its_row():
    came = Outcome(dt.date(2023, 7, 10), 101.5, 0.02)
    calls = []

    def scorer(f, outcome):
        calls.append(f["request_id"])
        return score(f, outcome)

    forecasts = [forecast(f"a{i}", 100.5) for i in range(50)] + [forecast("b", 100.7), forecast("c", 100.5, "v2")]
    rows = once_per_forecast(scorer, forecasts, came)
    assert calls == ["a0", "b", "c"]  # three distinct forecasts among the 52
    assert [r[0] for r in rows] == [f["request_id"] for f in forecasts]
    for f, row in zip(forecasts, rows):
        assert row == score(f, came)  # what scoring it alone gives
