"""When a retrain is due, and why: the schedule, live accuracy, the market's regime; and
when a promotion is undone by itself: live accuracy below its predecessor's.

Each rule names the period it fires for, so that however many workers ask, and however
often, one retrain is asked per period (stream/triggers.py records the periods).
"""
from dataclasses import dataclass
from datetime import datetime, time

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


@dataclass(frozen=True)
class TriggerConfig:
    daily_at: time | None = time(22, 0)  # RETRAIN_DAILY_AT, UTC, or off: the incremental retrain
    weekly_at: tuple[int, time] | None = (6, time(2, 0))  # RETRAIN_WEEKLY_AT 'sun 02:00' or off: the full one
    degradation_min_n: int = 200  # validated forecasts at a horizon before live accuracy counts
    degradation_margin: float = 0.05  # live pinball above the random walk's by this share
    on_regime_change: bool = True
    check_s: float = 60.0
    rollback_min_n: int = 300  # ROLLBACK_MIN_N: validated forecasts beside the predecessor's before it counts
    rollback_margin: float = 0.02  # ROLLBACK_MARGIN: live pinball above the predecessor's by this share


@dataclass(frozen=True)
class Due:
    trigger: str  # schedule-daily, schedule-weekly, degradation, regime
    period: str  # the day, week, model version or regime change it fires for
    retrain_type: str
    reason: str


def daily(now: datetime, at: time | None) -> Due | None:
    """The incremental retrain of the day, once `at` (UTC) has passed."""
    if at is None or now.time() < at:
        return None
    day = now.date().isoformat()
    return Due("schedule-daily", day, "incremental", f"daily incremental retrain of {day}, due at {at} UTC")


def weekly(now: datetime, on: tuple[int, time] | None) -> Due | None:
    """The full retrain of the ISO week, once its day and time (UTC) have passed."""
    if on is None:
        return None
    weekday, at = on
    if (now.weekday(), now.time()) < (weekday, at):
        return None
    year, week, _ = now.isocalendar()
    return Due("schedule-weekly", f"{year}-W{week:02d}", "full",
               f"weekly full retrain of {year}-W{week:02d}, due {DAYS[weekday]} {at} UTC")


def degraded(version: str, accuracy: list[dict], min_n: int, margin: float) -> Due | None:
    """A retrain when the served version's live pinball loss, over at least `min_n`
    validated forecasts at a horizon, is worse than the random walk's on the same
    forecasts by more than `margin`; once per served version."""
    for row in accuracy:
        if row["n"] >= min_n and row["pinball"] > row["rw_pinball"] * (1 + margin):
            return Due("degradation", version, "incremental",
                       f"{version}: live pinball {row['pinball']:.5f} at h={row['horizon']} over {row['n']} "
                       f"forecasts, above the random walk's {row['rw_pinball']:.5f} by more than {margin:.0%}")
    return None


def regime_changed(previous: str | None, current: str | None, as_of: str) -> Due | None:
    """A retrain when the market's most likely regime is not the one seen before."""
    if previous is None or current is None or previous == current:
        return None
    return Due("regime", f"{previous}->{current}@{as_of}", "incremental",
               f"the market's regime changed from {previous} to {current} on {as_of}")


def parse_daily(text: str) -> time | None:
    """'22:00' -> 22:00; 'off': off."""
    return None if text.strip().lower() == "off" else time.fromisoformat(text)


def parse_weekly(text: str) -> tuple[int, time] | None:
    """'sun 02:00' -> (6, 02:00); 'off': off."""
    if text.strip().lower() == "off":
        return None
    day, _, at = text.strip().lower().partition(" ")
    if day not in DAYS:
        raise ValueError(f"a weekly retrain is 'DAY HH:MM' with DAY one of {DAYS}, got {text!r}")
    return DAYS.index(day), time.fromisoformat(at)


def regressed(version: str, predecessor: str, versus: dict, min_n: int, margin: float) -> str | None:
    """Why `version` should give way to `predecessor`: over at least `min_n` validated
    forecasts, its live pinball loss is worse than the predecessor's, scored in shadow on
    the same forecasts, by more than `margin`. None while it is not (or not yet known)."""
    if versus["n"] < min_n or versus["pinball"] <= versus["shadow_pinball"] * (1 + margin):
        return None
    return (f"{version}: live pinball {versus['pinball']:.5f} over {versus['n']} forecasts, above "
            f"{predecessor}'s {versus['shadow_pinball']:.5f} on the same forecasts by more than {margin:.0%}")
