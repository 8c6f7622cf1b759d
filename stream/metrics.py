"""Prometheus metrics, served at GET /metrics."""
from prometheus_client import Counter, Gauge, Histogram

LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5)

requests_total = Counter("tft_forecast_requests_total", "Forecast requests served",
                         ["source", "status"])
request_latency = Histogram("tft_forecast_request_latency_seconds",
                            "Time from a request's arrival to its result", ["source"],
                            buckets=LATENCY_BUCKETS)
batch_size = Histogram("tft_inference_batch_size", "Requests scored in one forward pass",
                       buckets=(1, 2, 4, 8, 16, 32, 64, 128, 256))
batch_seconds = Histogram("tft_inference_batch_seconds", "Time of one forward pass",
                          buckets=LATENCY_BUCKETS)
cache_hits = Counter("tft_forecast_cache_hits_total", "Results served from the Redis cache")
bars_total = Counter("tft_bars_ingested_total", "Bars added to the symbol windows")
dead_letters_total = Counter("tft_dead_letters_total", "Messages sent to a dead-letter topic",
                             ["topic"])
forwarded_total = Counter("tft_forwarded_total", "Events forwarded to their symbol's home partition",
                          ["topic"])
risk_events_total = Counter("tft_risk_events_total", "Risk events emitted", ["kind"])
sink_rows_total = Counter("tft_metrics_sink_results_total", "Served requests written to PostgreSQL")
sink_errors_total = Counter("tft_metrics_sink_errors_total", "Failed metrics sink transactions")
consumer_lag = Gauge("tft_consumer_lag_messages", "High-water mark minus consumer position",
                     ["topic", "partition"])


def observe_batch(size: int, seconds: float) -> None:
    batch_size.observe(size)
    batch_seconds.observe(seconds)
