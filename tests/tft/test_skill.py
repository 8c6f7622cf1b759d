"""Skill or luck on real SPY and TLT outcomes: a forecaster that knows the outcome shows
skill with an interval clear of 0, one that always says up shows none."""
import numpy as np
import pandas as pd
import pytest

from tft.evaluate import attach_outcomes
from tft.skill import skill, with_known_rate


def rows(panel: pd.DataFrame, horizon: int = 1) -> pd.DataFrame:
    p = panel[panel["symbol"].isin(["SPY", "TLT"]) & (panel["date"] >= "2019-01-01")]
    return with_known_rate(attach_outcomes(pd.DataFrame({"symbol": p["symbol"], "date": p["date"], "horizon": horizon,
                                                         "close": p["close"]}), p), p)


def test_knowing_the_outcome_is_skill_and_always_up_is_not(panel):
    df = rows(panel)
    oracle = skill(df.assign(point=df["close"] * np.exp(df["y"]), p_up=(df["y"] > 0).astype(float))).iloc[0]
    lo, hi = oracle["acc_minus_up_95"]
    assert oracle["dir_acc"] > 0.99 and 0 < lo <= oracle["acc_minus_up"] <= hi
    assert oracle["brier_minus_base_95"][1] < 0 and oracle["sharpe_minus_hold_95"][0] > 0
    up = skill(df.assign(point=df["close"] * 1.001, p_up=0.5)).iloc[0]
    assert up["acc_minus_up"] == 0 and up["sharpe_minus_hold"] == 0
    assert up["brier"] == 0.25 and up["brier_minus_base"] > 0  # 0.5 is no forecast: the base rate beats it


def test_the_known_base_rate_counts_only_outcomes_settled_by_the_day(panel):
    df = rows(panel, horizon=5)
    p = panel[panel["symbol"].isin(["SPY", "TLT"]) & (panel["date"] >= "2019-01-01")]
    day = df["date"].sort_values().unique()[300]
    settled = []
    for _, g in p.groupby("symbol"):
        c, d = g["close"].values, g["date"].values
        settled += [c[t + 5] > c[t] for t in range(len(c) - 5) if d[t + 5] <= day]
    assert df.loc[df["date"] == day, "known_up_rate"].unique().tolist() == pytest.approx([np.mean(settled)])
    known = skill(df.assign(point=df["close"], p_up=df["known_up_rate"])).iloc[0]
    assert known["brier_minus_known"] == 0 and known["brier_minus_base"] > 0  # hindsight knows the rows' own rate
