import numpy as np
import pytest

from regime.hmm import REGIMES, RegimeModel, fit, name_states


@pytest.fixture(scope="module")
def spy(panel_spy_long):
    return panel_spy_long


@pytest.fixture(scope="module")
def model(spy):
    close = spy[spy["date"] <= "2019-12-31"]["close"].values
    return fit(close)


def test_states_are_named_from_what_they_hold():
    means = np.array([[0.1, -2.0], [-0.2, -1.5], [0.0, -1.8], [-0.5, -0.5]])
    assert name_states(means) == ("Bull", "Bear", "Sideways", "Crisis")


def test_real_crises_are_crisis_and_calm_bull_runs_are_not(model, spy):
    def regime(day):
        close = spy[spy["date"] <= day]["close"].values[-300:]
        probs = model.probabilities(close)
        assert abs(sum(probs.values()) - 1) < 1e-9 and set(probs) == set(REGIMES)
        return max(probs, key=probs.get)
    assert regime("2008-10-15") == "Crisis"
    assert regime("2020-03-20") == "Crisis"  # after the fit's end: out of sample
    assert regime("2017-06-30") in {"Bull", "Sideways"}


def test_a_day_depends_only_on_earlier_days(model, spy):
    close = spy[spy["date"] <= "2020-03-31"]["close"].values
    t = len(close) - 10
    shocked = close.copy()
    shocked[t + 1:] *= 0.5
    assert model.probabilities(close[:t + 1]) == model.probabilities(shocked[:t + 1])


def test_round_trip(model, spy):
    close = spy["close"].values[-300:]
    again = RegimeModel.from_dict(model.to_dict())
    assert again.probabilities(close) == pytest.approx(model.probabilities(close))
