"""Prometheus metrics, served at GET /metrics."""
import re
from datetime import UTC, datetime

from prometheus_client import Counter, Gauge, Histogram

LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5)

requests_total = Counter("tft_forecast_requests_total", "Forecast requests served",
                         ["source", "status", "code"])  # code: "ok", or the error's code
request_latency = Histogram("tft_forecast_request_latency_seconds",
                            "Time from a request's arrival to its result", ["source"],
                            buckets=LATENCY_BUCKETS)
batch_size = Histogram("tft_inference_batch_size", "Requests scored in one forward pass",
                       buckets=(1, 2, 4, 8, 16, 32, 64, 128, 256))
batch_seconds = Histogram("tft_inference_batch_duration_seconds", "Time of one forward pass",
                          buckets=LATENCY_BUCKETS)
# A forecast's distribution is held by the worker, shared by another through Redis, or computed.
cache_hits = Counter("tft_forecast_cache_hits_total", "Distributions found, not computed", ["where"])  # worker, shared
cache_misses = Counter("tft_forecast_cache_misses_total", "Distributions the model computed")
model_info = Gauge("tft_model_info", "The model version served: 1 for it, 0 for versions served before",
                   ["version"])
model_data_end = Gauge("tft_model_data_end_timestamp_seconds", "The last day of data the served model saw "
                       "(the end of its validation year; Unix time)")
bars_total = Counter("tft_bars_ingested_total", "Bars added to the symbol windows")
data_quality_flags = Counter("tft_data_quality_flags_total", "Bars that joined a window flagged by a data-quality "
                             "check (features/data_quality.py)", ["check", "symbol"])  # missing_sessions, stale, outlier
last_bar = Gauge("tft_symbol_last_bar_timestamp_seconds", "When a bar of the symbol last joined its window "
                 "(Unix time; the dashboards show time() minus it)", ["symbol"])
dead_letters_total = Counter("tft_dead_letters_total", "Messages sent to a dead-letter topic",
                             ["topic", "reason"])  # reason: the message's reason with its values taken out
forwarded_total = Counter("tft_forwarded_total", "Events forwarded to their symbol's home partition",
                          ["topic"])
regime_events_total = Counter("tft_regime_events_total", "Regime events published", ["kind"])  # change, heartbeat
risk_events_total = Counter("tft_risk_events_total", "Changes of a symbol's risk level published", ["level"])
option_chains_total = Counter("tft_option_chains_total", "Option chains consumed", ["outcome"])  # fitted, dead_letter
option_fit_seconds = Histogram("tft_option_surface_fit_seconds", "Time to fit one chain's surface",
                               buckets=(0.5, 1, 2.5, 5, 10, 20, 40, 80))
sink_rows_total = Counter("tft_metrics_sink_results_total", "Served requests written to PostgreSQL")
transactions_failed_total = Counter("tft_transactions_failed_total",
                                    "Transactions of served requests that failed (exactly once) and were tried again")
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


def observe_cache(where: str, n: int) -> None:
    if n:
        (cache_misses if where == "miss" else cache_hits.labels(where)).inc(n)


def serving(version: str, described: dict) -> None:
    """`version` is served from now on; `described`, what its forecaster says of itself."""
    for sample in model_info.collect()[0].samples:
        model_info.labels(sample.labels["version"]).set(0)
    model_info.labels(version).set(1)
    end = (described.get("validation_range") or [None, None])[-1]
    model_data_end.set(datetime.fromisoformat(str(end)).replace(tzinfo=UTC).timestamp() if end else float("nan"))


def count_result(source: str, result) -> None:
    """A served request's result (schemas.ForecastResult)."""
    code = result.error.code if result.error is not None else "ok"
    requests_total.labels(source=source, status=result.status, code=code).inc()


_VALUES = re.compile(r"'[^']*'|\"[^\"]*\"|\[[^\]]*\]|\{[^}]*\}|-?\d[\d.:eE+\-]*")


def reason_class(reason: str) -> str:
    """A dead letter's reason as a label: its values (numbers, dates, quoted or bracketed
    text) replaced by '#', so that there are as many label values as there are reasons
    written in the code, not as many as bad messages."""
    return _VALUES.sub("#", reason)[:80]


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
