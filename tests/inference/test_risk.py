"""The risk rules on real days, one at a time: each a ratio of now to normal, widening by
its square root, and only the kept ones widening."""
import numpy as np
import pytest

from features.cross_asset import Context
from features.data import load
from inference.config import InferenceConfig
from inference.distribution import gaussian
from inference.risk import RULES, Inputs, assess, drawdown, factors, regime, vix_inversion, vol_percentile, vol_spike
from schemas import RegimeInfo
from tests.helpers import NO_CONTEXT, window_of

DIST = gaussian((1, 5), np.zeros(2), np.array([0.01, 0.02]))


@pytest.fixture(scope="module")
def context(data_dir):
    return Context.from_bars(load(data_dir).context)


def inputs(panel, context, day: str, p_crisis: float | None = None) -> Inputs:
    w = window_of(panel, "SPY", day, 400)
    regime = None if p_crisis is None else RegimeInfo(name="Crisis", confidence=p_crisis,
                                                      probabilities={"Crisis": p_crisis})
    return Inputs.of(w, context.until(np.datetime64(day)), regime)


def test_each_rule_reads_real_stress_as_stress(panel, context):
    crash, calm = inputs(panel, context, "2020-03-16", 0.9), inputs(panel, context, "2019-12-31", 0.0)
    assert vol_spike(crash)[-1] > 2.5 and vol_spike(calm)[-1] < 1.2
    assert vol_percentile(crash)[-1] > 1.5 and vol_percentile(calm)[-1] < 1.0
    assert vix_inversion(crash)[-1] > 1.2 and vix_inversion(calm)[-1] < 1.0  # VIX above VIX3M in the crash
    spy = panel[panel["symbol"] == "SPY"].set_index("date")["close"]
    high = spy.loc["2019-03-18":"2020-03-16"].max()
    assert drawdown(crash)[-1] == pytest.approx(2 - spy.loc["2020-03-16"] / high)
    assert drawdown(calm)[-1] == pytest.approx(1.0, abs=0.01)  # at its high
    assert regime(crash)[-1] == pytest.approx(1.9) and regime(calm)[-1] == 1.0


def test_a_rule_reads_only_the_days_up_to_its_own(panel, context):
    x = inputs(panel, context, "2020-03-16")
    t = len(x.close) - 30
    later = Inputs(np.r_[x.close[:t + 1], x.close[t + 1:] * 0.5], x.vix, x.vix3m, x.p_crisis)
    for name, (rule, _) in RULES.items():
        a, b = rule(x), rule(later)
        assert np.array_equal(a[:t + 1], b[:t + 1], equal_nan=True), name


def test_factors_are_square_roots_never_below_one_and_one_where_unknown():
    assert factors(np.array([4.0, 0.5, np.nan, 1.21])).tolist() == [2.0, 1.0, 1.0, 1.1]


def test_only_the_kept_rules_widen_and_the_largest_one_does(panel, context):
    w = window_of(panel, "SPY", "2020-03-16", 400)
    ctx = context.until(np.datetime64("2020-03-16"))
    crisis = RegimeInfo(name="Crisis", confidence=0.9, probabilities={"Crisis": 0.9})
    only_spike = assess(w, ctx, crisis, DIST, InferenceConfig(risk_rules=("vol_spike",)))
    both = assess(w, ctx, crisis, DIST, InferenceConfig(risk_rules=("vol_spike", "drawdown", "regime")))
    none = assess(w, ctx, crisis, DIST, InferenceConfig(risk_rules=()))
    by = {r.name: r for r in both.rules}
    assert [r.name for r in both.rules] == list(RULES)
    assert only_spike.scale == by["vol_spike"].factor
    assert both.scale == max(by[n].factor for n in ("vol_spike", "drawdown", "regime"))
    assert none.scale == 1.0 and none.level == "normal" and none.var_95 == none.raw_var_95
    assert all(r.reason for r in both.rules) and not by["vix_inversion"].applied
    blind = assess(w, NO_CONTEXT, None, DIST, InferenceConfig(risk_rules=tuple(RULES)))
    vix = next(r for r in blind.rules if r.name == "vix_inversion")
    assert vix.factor == 1.0 and "missing" in vix.reason


def test_the_walk_forward_comparison_scores_each_rule_on_the_same_rows(data_dir, context):
    from features.data import load_panel
    from inference.risk_rules import compare, rule_factors, verdicts
    from tests.tft.test_evaluate import random_walk_backtest
    from tft.evaluate import attach_outcomes
    panel = load_panel(data_dir, ["SPY", "TLT"], start="2020-01-01", end="2023-12-29")
    df = attach_outcomes(random_walk_backtest(panel, "2022-01-03"), panel)
    factors = rule_factors(panel, context, None)
    assert (factors[list(RULES)] >= 1).all().all()
    table = compare(df, factors, {"two": ["drawdown", "vol_spike"]}).set_index(["rule", "horizon"])
    assert set(table.index.get_level_values(0)) == {"none", *RULES, "two"}
    assert (table.loc["none", "pinball_vs_none"] == 1).all()
    # no regime book: the regime rule never widens, and scores exactly as unwidened
    assert (table.loc["regime", "pinball"] == table.loc["none", "pinball"]).all()
    assert (table.loc["regime", "widened_share"] == 0).all()
    # widening only ever raises coverage
    assert (table.loc["drawdown", "cover_95"] >= table.loc["none", "cover_95"]).all()
    assert (table.loc["two", "cover_68"] >= table.loc["drawdown", "cover_68"]).all()
    assert set(verdicts(table.reset_index())) == set(RULES)
