from datetime import datetime, time

import pytest

from inference.triggers import daily, degraded, parse_daily, parse_weekly, regime_changed, regressed, weekly


def test_the_schedule_fires_once_its_time_has_passed_and_names_its_period():
    at = parse_daily("22:00")
    assert daily(datetime(2024, 1, 2, 21, 59), at) is None
    due = daily(datetime(2024, 1, 2, 22, 0), at)
    assert (due.trigger, due.period, due.retrain_type) == ("schedule-daily", "2024-01-02", "incremental")
    assert daily(datetime(2024, 1, 2, 23, 0), at).period == due.period  # the same period: asked once
    assert daily(datetime(2024, 1, 2, 23, 0), parse_daily("off")) is None

    on = parse_weekly("sun 02:00")
    assert weekly(datetime(2024, 1, 6, 23, 0), on) is None  # a Saturday
    due = weekly(datetime(2024, 1, 7, 2, 30), on)  # Sunday 2024-01-07, ISO week 1
    assert (due.period, due.retrain_type) == ("2024-W01", "full")
    assert weekly(datetime(2024, 1, 8, 9, 0), on) is None  # Monday: a new week, not due yet
    with pytest.raises(ValueError, match="DAY HH:MM"):
        parse_weekly("sunday 2am")


def test_degradation_needs_enough_forecasts_and_a_margin_over_the_random_walk():
    rows = [{"horizon": 5, "n": 150, "pinball": 0.0110, "rw_pinball": 0.0100},
            {"horizon": 21, "n": 400, "pinball": 0.0204, "rw_pinball": 0.0200}]
    assert degraded("v1", rows, min_n=200, margin=0.05) is None  # h=5 too few, h=21 within 5%
    rows[1]["pinball"] = 0.0215
    due = degraded("v1", rows, min_n=200, margin=0.05)
    assert (due.trigger, due.period) == ("degradation", "v1") and "h=21" in due.reason


def test_a_regime_change_fires_and_a_first_sighting_does_not():
    assert regime_changed(None, "Bull", "2024-01-02") is None
    assert regime_changed("Bull", "Bull", "2024-01-02") is None
    due = regime_changed("Bull", "Crisis", "2024-01-02")
    assert due.period == "Bull->Crisis@2024-01-02" and due.trigger == "regime"
    assert time(2, 0) == parse_weekly("Sun 02:00")[1]


def test_a_promotion_regresses_only_past_enough_forecasts_and_the_margin():
    versus = {"n": 300, "pinball": 0.0105, "shadow_pinball": 0.0100}
    assert regressed("new", "old", versus, min_n=300, margin=0.02) is not None  # 5% worse
    assert regressed("new", "old", versus, min_n=301, margin=0.02) is None  # not enough forecasts yet
    assert regressed("new", "old", versus, min_n=300, margin=0.06) is None  # within the margin
    assert regressed("new", "old", {**versus, "pinball": 0.0099}, min_n=300, margin=0.0) is None  # better
    assert regressed("new", "old", {"n": 0, "pinball": None, "shadow_pinball": None}, 1, 0.0) is None
    why = regressed("new", "old", versus, min_n=300, margin=0.02)
    assert "0.01050" in why and "0.01000" in why and "300" in why and "old" in why
