"""The status page (GET /) and its figures (GET /status.json), for an operator with no
Grafana yet: lag per partition, throughput and latency over the last minutes, batch
sizes, dead letters by reason, the model served, live accuracy by horizon, regimes.

Figures over the last minutes come from snapshots of this worker's own metrics, taken
every SAMPLE_S for WINDOW_S: the newest less the oldest gives the window's rates and
latency percentiles (estimated within histogram buckets, as Prometheus's
histogram_quantile does). The ring holds counters' copies, no data of the service. The
page is one static file that polls the figures; like /metrics, both are open.
"""
import time
from collections import deque
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import orjson
from faust.web import Request, Response, View

from stream import metrics
from stream.tables import regime_states, symbol_regimes, windows

SAMPLE_S = 5.0
WINDOW_S = 300.0
PAGE = (Path(__file__).parent / "static" / "status.html").read_bytes()


@dataclass(frozen=True)
class Snapshot:
    at: float
    requests: float
    errors: float
    latency: np.ndarray  # (B,) cumulative counts at metrics.LATENCY_BUCKETS and +Inf
    batch: np.ndarray  # (B,) the same for batch sizes
    batch_sum: float


def _samples(metric, suffix: str = "") -> list:
    return [s for family in metric.collect() for s in family.samples if s.name.endswith(suffix)]


def _buckets(histogram) -> tuple[np.ndarray, np.ndarray]:
    """(upper bounds, cumulative counts) summed over the histogram's labels."""
    by_le: dict[float, float] = {}
    for s in _samples(histogram, "_bucket"):
        le = float(s.labels["le"])
        by_le[le] = by_le.get(le, 0.0) + s.value
    bounds = np.array(sorted(by_le))
    return bounds, np.array([by_le[b] for b in bounds])


def snapshot(now: float | None = None) -> Snapshot:
    requests = _samples(metrics.requests_total, "_total")
    return Snapshot(at=time.monotonic() if now is None else now,
                    requests=sum(s.value for s in requests),
                    errors=sum(s.value for s in requests if s.labels["status"] == "error"),
                    latency=_buckets(metrics.request_latency)[1], batch=_buckets(metrics.batch_size)[1],
                    batch_sum=sum(s.value for s in _samples(metrics.batch_size, "_sum")))


def quantile(q: float, bounds: np.ndarray, counts: np.ndarray) -> float | None:
    """The q-quantile of observations counted cumulatively at `bounds` (the last +Inf),
    linear within its bucket; None for no observations."""
    total = counts[-1] if len(counts) else 0
    if total <= 0:
        return None
    i = int(np.searchsorted(counts, q * total))
    if i >= len(bounds) - 1:  # in the +Inf bucket: the largest finite bound is all that is known
        return float(bounds[-2])
    lo, below = (0.0, 0.0) if i == 0 else (bounds[i - 1], counts[i - 1])
    inside = counts[i] - below
    return float(lo + (bounds[i] - lo) * ((q * total - below) / inside if inside else 1.0))


def _since(new: np.ndarray, old: np.ndarray) -> np.ndarray:
    """Counts added between two snapshots; a labelled histogram has no buckets before its
    first observation."""
    return new - old if old.shape == new.shape else new


def window(ring: deque) -> dict:
    """Rates and percentiles between the oldest and newest snapshots of the ring."""
    if len(ring) < 2:
        return {"seconds": 0.0}
    old, new = ring[0], ring[-1]
    span = new.at - old.at
    latency_bounds = _buckets(metrics.request_latency)[0]
    batch_bounds = _buckets(metrics.batch_size)[0]
    latency, batch = _since(new.latency, old.latency), _since(new.batch, old.batch)
    passes = float(batch[-1]) if len(batch) else 0.0
    series = [{"seconds_ago": round(new.at - b.at, 1), "per_min": (b.requests - a.requests) / (b.at - a.at) * 60}
              for a, b in zip(ring, list(ring)[1:])]
    return {
        "seconds": span,
        "per_min": (new.requests - old.requests) / span * 60,
        "errors_per_min": (new.errors - old.errors) / span * 60,
        "latency_ms": {f"p{int(q * 100)}": None if (v := quantile(q, latency_bounds, latency)) is None else v * 1000
                       for q in (0.5, 0.95, 0.99)},
        "batch": {"passes": passes, "mean": float(new.batch_sum - old.batch_sum) / passes if passes else None,
                  "p95": quantile(0.95, batch_bounds, batch)},
        "series": series,
    }


def accuracy() -> list[dict]:
    """The live gauges by horizon: the served model beside the random walk."""
    rows: dict[str, dict] = {}
    for gauge, key in ((metrics.live_pinball, "pinball"), (metrics.live_direction, "directional_accuracy")):
        for s in _samples(gauge):
            rows.setdefault(s.labels["horizon"], {})[key if s.labels["model"] == "tft" else f"{key}_baseline"] = s.value
    for s in _samples(metrics.live_coverage):
        name = f"coverage_{s.labels['nominal'][2:]}" + ("" if s.labels["model"] == "tft" else "_baseline")
        rows.setdefault(s.labels["horizon"], {})[name] = s.value
    for s in _samples(metrics.live_forecasts):
        rows.setdefault(s.labels["horizon"], {})["n"] = s.value
    return [{"horizon": int(h), **r} for h, r in sorted(rows.items(), key=lambda kv: int(kv[0]))]


def figures(rt, ring: deque) -> dict:
    service = rt.host.service if rt.is_open else None
    regimes = []
    # The global table's keys, and this worker's windows: listed keys of a global table
    # restored into a fresh state folder were seen to miss one the table still answers for.
    for symbol in sorted({k.decode() for k in symbol_regimes.keys()} | set(windows.symbols())):
        held = regime_states(symbol)
        if held is not None:
            state = held[0]
            regimes.append({"symbol": state.symbol, "regime": state.regime.name, "confidence": state.regime.confidence,
                            "since": str(state.since), "sessions": state.sessions, "as_of": str(state.as_of)})
    return {
        "at": datetime.now(UTC).isoformat(timespec="seconds"),
        "worker": str(rt.app.conf.canonical_url),
        "ready": rt.is_open,
        "model": None if service is None else {"version": service.model_version, **service.forecaster.describe()},
        "window": window(ring),
        "bars_ingested": sum(s.value for s in _samples(metrics.bars_total, "_total")),
        "lag": [{"topic": s.labels["topic"], "partition": int(s.labels["partition"]), "lag": s.value}
                for s in sorted(_samples(metrics.consumer_lag), key=lambda s: (s.labels["topic"], s.labels["partition"]))],
        "dead_letters": sorted(({"topic": s.labels["topic"], "reason": s.labels["reason"], "count": s.value}
                                for s in _samples(metrics.dead_letters_total, "_total")), key=lambda d: -d["count"]),
        "accuracy": accuracy(),
        "regimes": regimes,
    }


def install(rt) -> None:
    # The status page's bounded ring: copies of this worker's counters, no data of the service.
    ring: deque[Snapshot] = deque(maxlen=int(WINDOW_S / SAMPLE_S) + 1)

    @rt.app.timer(interval=SAMPLE_S)
    async def take_snapshot() -> None:
        ring.append(snapshot())

    @rt.app.page("/")
    class StatusPage(View):
        async def get(self, request: Request) -> Response:
            return self.bytes(PAGE, content_type="text/html")

    @rt.app.page("/status.json")
    class StatusFigures(View):
        async def get(self, request: Request) -> Response:
            figures_now = figures(rt, deque([*ring, snapshot()]))  # up to this moment
            return self.bytes(orjson.dumps(figures_now, option=orjson.OPT_SERIALIZE_NUMPY | orjson.OPT_NON_STR_KEYS),
                              content_type="application/json")
