import numpy as np
import pytest
from scipy.stats import norm

from inference.distribution import Distribution, gaussian
from schemas import QUANTILES


def test_gaussian_levels_are_exact_inside_and_outside_the_reported_quantiles():
    d = gaussian((1, 5), np.array([0.001, 0.002]), np.array([0.01, 0.03]))
    levels = np.array([0.025, 0.1, 0.3, 0.5, 0.84, 0.975])
    expected = np.array([0.001, 0.002])[:, None] + np.array([0.01, 0.03])[:, None] * norm.ppf(levels)
    np.testing.assert_allclose(d.at(levels), expected, rtol=1e-12, atol=1e-15)


def test_levels_are_monotone_for_skewed_quantiles():
    q = np.array([[-0.05, -0.02, 0.0, 0.01, 0.015]])
    d = Distribution((1,), q, np.array([0.0]), np.array([0.02]), np.array([0.5]))
    vals = d.at(np.linspace(0.01, 0.99, 50))[0]
    assert np.all(np.diff(vals) > 0)
    np.testing.assert_allclose(d.at(np.array(QUANTILES))[0], q[0], atol=1e-12)


def test_crossing_quantiles_are_an_invariant_violation():
    with pytest.raises(AssertionError, match="cross"):
        Distribution((1,), np.array([[0.0, -0.1, 0.0, 0.1, 0.2]]), np.zeros(1), np.ones(1),
                      np.full(1, 0.5))


def test_widening_keeps_the_median_and_scales_the_spread():
    d = gaussian((1,), np.array([0.01]), np.array([0.02]))
    w = d.widened(2.0)
    assert w.quantiles[0, 2] == pytest.approx(0.01)
    assert w.quantiles[0, 4] - w.quantiles[0, 2] == pytest.approx(2 * (d.quantiles[0, 4] - 0.01))
    assert w.volatility[0] == pytest.approx(0.04)


def test_select_picks_horizons_in_the_order_asked():
    d = gaussian((1, 5, 10), np.zeros(3), np.array([0.01, 0.02, 0.03]))
    assert d.select([10, 1]).volatility.tolist() == [0.03, 0.01]
