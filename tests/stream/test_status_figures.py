"""The status page's window figures: percentiles within histogram buckets, and rates
between snapshots of the worker's own metrics."""
from collections import deque

import numpy as np

from stream import metrics, status


def test_a_bucketed_quantile_lies_in_the_bucket_of_the_true_one():
    rng = np.random.default_rng(0)
    seen = rng.lognormal(np.log(0.02), 0.8, 5000)  # latencies in seconds
    bounds = np.array([*metrics.LATENCY_BUCKETS, np.inf])
    counts = np.array([(seen <= b).sum() for b in bounds], dtype=float)
    for q in (0.5, 0.95, 0.99):
        true = float(np.quantile(seen, q))
        i = int(np.searchsorted(bounds, true))
        lo = 0.0 if i == 0 else bounds[i - 1]
        assert lo <= status.quantile(q, bounds, counts) <= bounds[i]
    assert status.quantile(0.5, bounds, np.zeros(len(bounds))) is None
    assert status.quantile(0.99, bounds, np.array([0.0] * (len(bounds) - 1) + [3.0])) == bounds[-2]  # all beyond


def test_the_window_counts_what_came_between_its_snapshots():
    ring = deque([status.snapshot(100.0)])
    metrics.request_latency.labels("http").observe(0.004)
    metrics.requests_total.labels("http", "ok", "ok").inc(3)
    metrics.requests_total.labels("http", "error", "unknown_symbol").inc(1)
    metrics.batch_size.observe(4)
    ring.append(status.snapshot(160.0))
    w = status.window(ring)
    assert (w["seconds"], w["per_min"], w["errors_per_min"]) == (60.0, 4.0, 1.0)
    assert w["batch"]["mean"] == 4.0 and w["batch"]["passes"] == 1.0
    assert 2.5 <= w["latency_ms"]["p50"] <= 5.0
    assert status.window(deque([ring[0]])) == {"seconds": 0.0}
    assert status.window(deque()) == {"seconds": 0.0}
