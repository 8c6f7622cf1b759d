"""Interval calibration: factors that give each central interval its nominal coverage."""
import numpy as np

from tft import calibration

LEVELS = (0.1, 0.25, 0.5, 0.75, 0.9)
Z80, Z50 = 1.2815515655446004, 0.6744897501960817  # standard normal quantiles


def forecasts(n: int, z: int, width: float) -> np.ndarray:
    """Gaussian quantiles of unit-scale outcomes, `width` times too narrow or wide."""
    q = np.array([-Z80, -Z50, 0.0, Z50, Z80]) * width
    return np.broadcast_to(q, (n, z, 5)).copy()


def test_too_narrow_intervals_are_widened_to_nominal_coverage_out_of_sample():
    rng = np.random.default_rng(0)
    q = forecasts(20_000, 2, width=0.6)
    factors = calibration.fit(q, rng.standard_normal((20_000, 2)), LEVELS)
    np.testing.assert_allclose(factors[:, [0, 1, 3, 4]], 1 / 0.6, rtol=0.05)
    assert (factors[:, 2] == 1).all()  # the median stays where it is
    fresh = rng.standard_normal((20_000, 2))
    before = calibration.coverage(q, fresh)
    after = calibration.coverage(calibration.apply(q, factors, LEVELS), fresh)
    assert (before < [0.65, 0.35]).all()  # 80% and 50% intervals, far too narrow
    np.testing.assert_allclose(after, np.broadcast_to([0.8, 0.5], after.shape), atol=0.015)


def test_calibrated_quantiles_keep_the_median_and_never_cross():
    rng = np.random.default_rng(1)
    q = np.sort(rng.normal(size=(500, 4, 5)), axis=-1)
    factors = rng.uniform(0.2, 5, size=(4, 5))
    out = calibration.apply(q, factors, LEVELS)
    assert (np.diff(out, axis=-1) >= 0).all()
    np.testing.assert_array_equal(out[..., 2], q[..., 2])
    assert calibration.apply(q, None, LEVELS) is q


def test_a_drifting_year_does_not_shrink_one_tail():
    """Outcomes all shifted up: a per-level fit would pull the lower quantiles in;
    the shared factor widens both sides."""
    rng = np.random.default_rng(2)
    q = forecasts(20_000, 1, width=1.0)
    factors = calibration.fit(q, rng.standard_normal((20_000, 1)) + 0.5, LEVELS)
    assert factors[0, 0] == factors[0, 4] and factors[0, 0] > 1
