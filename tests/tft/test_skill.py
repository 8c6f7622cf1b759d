"""Skill or luck on real SPY and TLT outcomes: a forecaster that knows the outcome shows
skill with an interval clear of 0, one that always says up shows none."""
import numpy as np
import pandas as pd

from tft.evaluate import attach_outcomes
from tft.skill import skill


def rows(panel: pd.DataFrame) -> pd.DataFrame:
    p = panel[panel["symbol"].isin(["SPY", "TLT"]) & (panel["date"] >= "2019-01-01")]
    return attach_outcomes(pd.DataFrame({"symbol": p["symbol"], "date": p["date"], "horizon": 1,
                                         "close": p["close"]}), p)


def test_knowing_the_outcome_is_skill_and_always_up_is_not(panel):
    df = rows(panel)
    oracle = skill(df.assign(point=df["close"] * np.exp(df["y"]), p_up=(df["y"] > 0).astype(float))).iloc[0]
    lo, hi = oracle["acc_minus_up_95"]
    assert oracle["dir_acc"] > 0.99 and 0 < lo <= oracle["acc_minus_up"] <= hi
    assert oracle["brier_minus_base_95"][1] < 0 and oracle["sharpe_minus_hold_95"][0] > 0
    up = skill(df.assign(point=df["close"] * 1.001, p_up=0.5)).iloc[0]
    assert up["acc_minus_up"] == 0 and up["sharpe_minus_hold"] == 0
    assert up["brier"] == 0.25 and up["brier_minus_base"] > 0  # 0.5 is no forecast: the base rate beats it
