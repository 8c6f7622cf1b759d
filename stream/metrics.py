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
regime_events_total = Counter("tft_regime_events_total", "Regime events published", ["kind"])  # change, heartbeat
risk_events_total = Counter("tft_risk_events_total", "Changes of a symbol's risk level published", ["level"])
option_chains_total = Counter("tft_option_chains_total", "Option chains consumed", ["outcome"])  # fitted, dead_letter
option_fit_seconds = Histogram("tft_option_surface_fit_seconds", "Time to fit one chain's surface",
                               buckets=(0.5, 1, 2.5, 5, 10, 20, 40, 80))
sink_rows_total = Counter("tft_metrics_sink_results_total", "Served requests written to PostgreSQL")
sink_errors_total = Counter("tft_metrics_sink_errors_total", "Failed metrics sink transactions")
model_swaps_total = Counter("tft_model_swaps_total", "Switches to a newly active model version",
                            ["from_cache"])  # true: a version still loaded (MODEL_CACHE_SIZE)
validated_total = Counter("tft_forecasts_validated_total", "Served forecasts scored against their outcome")
# Live accuracy of the served model by horizon, each beside its baseline on the same forecasts.
live_forecasts = Gauge("tft_live_validated_forecasts", "Forecasts of the served model scored so far", ["horizon"])
live_pinball = Gauge("tft_live_pinball_loss", "Mean pinball loss on log returns", ["horizon", "model"])
live_direction = Gauge("tft_live_directional_accuracy", "Share of right directions; baseline: always up",
                       ["horizon", "model"])
live_mape = Gauge("tft_live_mape_percent", "Mean absolute percentage error of the point", ["horizon", "model"])
live_rmse = Gauge("tft_live_rmse_log_return", "RMSE of the point's log return", ["horizon", "model"])
live_coverage = Gauge("tft_live_interval_coverage", "Share of outcomes inside the central interval",
                      ["horizon", "nominal", "model"])
# The served version and its predecessor on the same forecasts (the automatic rollback's test).
shadow_pinball = Gauge("tft_shadow_pinball_loss", "Mean pinball loss on the forecasts both versions made",
                       ["role"])  # served, predecessor
rollbacks_total = Counter("tft_model_rollbacks_total", "Rollbacks this worker made itself")
consumer_lag = Gauge("tft_consumer_lag_messages", "High-water mark minus consumer position",
                     ["topic", "partition"])


def observe_batch(size: int, seconds: float) -> None:
    batch_size.observe(size)
    batch_seconds.observe(seconds)


def observe_accuracy(rows: list[dict]) -> None:
    """The gauges from persistence's accuracy rows of the served model, by horizon."""
    for r in rows:
        h = str(r["horizon"])
        live_forecasts.labels(h).set(r["n"])
        for model, prefix in (("tft", ""), ("random_walk", "rw_")):
            live_pinball.labels(h, model).set(r[f"{prefix}pinball"])
            live_mape.labels(h, model).set(r[f"{prefix}mape_pct"])
            live_rmse.labels(h, model).set(r[f"{prefix}rmse"])
            for nominal in ("68", "95"):
                live_coverage.labels(h, f"0.{nominal}", model).set(r[f"{prefix}coverage_{nominal}"])
        live_direction.labels(h, "tft").set(r["directional_accuracy"])
        live_direction.labels(h, "always_up").set(r["up_rate"])
