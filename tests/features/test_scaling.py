import numpy as np

from features.scaling import CLIP, Scaler


def test_nan_becomes_a_masked_zero_and_outliers_are_clipped():
    train = np.array([[1.0, np.nan, 0.0], [2.0, np.nan, 1.0], [3.0, np.nan, 0.0], [4.0, np.nan, 0.0]])
    s = Scaler.fit(train, ("a", "b", "c"))
    values, mask = s.transform(np.array([[2.5, 7.0, 1.0], [np.nan, np.nan, 1e9]]))
    assert np.isfinite(values).all() and values.dtype == np.float32
    assert values[0, 0] == 0.0 and mask[0].tolist() == [1, 1, 1]
    assert values[1, 0] == 0.0 and mask[1, 0] == 0
    assert values[1, 2] == CLIP


def test_round_trip_through_a_dict():
    s = Scaler.fit(np.random.default_rng(1).normal(size=(100, 3)), ("x", "y", "z"))
    t = Scaler.from_dict(s.to_dict())
    x = np.random.default_rng(2).normal(size=(5, 3))
    np.testing.assert_array_equal(s.transform(x)[0], t.transform(x)[0])
