"""The Grafana dashboards, written as code with Grafana's own builders (grafana-foundation-sdk,
the variant generated for the Grafana that compose runs) and rendered to provisioned JSON:

    .venv/bin/python monitoring/dashboards.py      # rewrites monitoring/grafana/dashboards/*.json

A test renders them again and compares with the committed files, and checks that every
metric a panel queries is one the worker exports (or the Kafka exporter's), and that
every SQL panel runs against the schema the migrations make.
"""
import json
from pathlib import Path
from typing import Self

from grafana_foundation_sdk.builders import prometheus
from grafana_foundation_sdk.builders.dashboard import Dashboard
from grafana_foundation_sdk.builders.stat import Panel as Stat
from grafana_foundation_sdk.builders.table import Panel as Table
from grafana_foundation_sdk.builders.timeseries import Panel as Timeseries
from grafana_foundation_sdk.cog import builder, variants
from grafana_foundation_sdk.cog.encoder import JSONEncoder
from grafana_foundation_sdk.models import units
from grafana_foundation_sdk.models.common import TimeZoneUtc
from grafana_foundation_sdk.models.dashboard import DataSourceRef

OUT = Path(__file__).parent / "grafana" / "dashboards"
PROMETHEUS = DataSourceRef(type_val="prometheus", uid="prometheus")
POSTGRES = DataSourceRef(type_val="grafana-postgresql-datasource", uid="postgres")
# The served version, for SQL panels.
ACTIVE = "(SELECT version FROM model_registry WHERE status = 'active' AND name = 'tft')"


class SQLQuery(variants.Dataquery):
    """A query of Grafana's PostgreSQL datasource. The SDK has no type for it, so this is one, made the way its
    README makes a custom query type."""

    def __init__(self, raw_sql: str, fmt: str) -> None:
        self.raw_sql, self.format, self.ref_id, self.datasource = raw_sql, fmt, "", POSTGRES

    def to_json(self) -> dict[str, object]:
        return {"datasource": self.datasource, "refId": self.ref_id, "rawSql": self.raw_sql, "format": self.format,
                "rawQuery": True, "editorMode": "code"}


class SQL(builder.Builder[SQLQuery]):
    def __init__(self, query: str, fmt: str = "table") -> None:
        self._internal = SQLQuery(" ".join(query.split()), fmt)

    def build(self) -> SQLQuery:
        return self._internal

    def ref_id(self, ref_id: str) -> Self:
        self._internal.ref_id = ref_id
        return self


Query = prometheus.Dataquery | SQL
Panel = Timeseries | Stat | Table


def prom(expr: str, legend: str = "") -> prometheus.Dataquery:
    return prometheus.Dataquery().datasource(PROMETHEUS).expr(expr).legend_format(legend)


def panel(kind: type[Panel], title: str, targets: list[Query], unit: str = units.Short, w: int = 12, h: int = 8,
          description: str = "") -> Panel:
    built = (kind().title(title).description(description).datasource(targets[0].build().datasource).unit(unit)
             .span(w).height(h))
    for i, target in enumerate(targets):
        built.with_target(target.ref_id(chr(65 + i)))
    return built


def series(title: str, *targets: Query, **kw) -> Timeseries:
    return panel(Timeseries, title, list(targets), **kw)


def stat(title: str, *targets: Query, **kw) -> Stat:
    return panel(Stat, title, list(targets), **{"w": 6, "h": 4, **kw})


def table(title: str, target: Query, **kw) -> Table:
    return panel(Table, title, [target], **{"w": 24, "h": 10, **kw})


def quantiles(metric: str, by: str = "") -> list[prometheus.Dataquery]:
    group = f"le{', ' + by if by else ''}"
    legend = f"{{{{{by}}}}} " if by else ""
    return [prom(f"histogram_quantile({q}, sum by ({group}) (rate({metric}_bucket[5m])))", f"{legend}p{int(q * 100)}")
            for q in (0.5, 0.95, 0.99)]


def dashboard(uid: str, title: str, panels: list[Panel]) -> dict:
    """The dashboard as JSON. The builder lays panels left to right and starts a new row once one is 24 columns
    wide; it does not wrap a panel that would cross the edge, so each row's widths add up to 24."""
    board = (Dashboard(title).uid(uid).tags(["tft-forecast"]).timezone(TimeZoneUtc).version(1).editable()
             .refresh("30s").time("now-6h", "now"))
    for i, p in enumerate(panels):
        board.with_panel(p.id(i + 1))
    return json.loads(JSONEncoder().encode(board.build()))


def service_overview() -> dict:
    return dashboard("tft-service", "tft-forecast: service overview", [
        stat("Model served", prom("tft_model_info == 1", "{{version}}"), unit=units.NoUnit),
        stat("Workers up", prom('sum(up{job="tft-forecast"})')),
        stat("Forecasts / min", prom("sum(rate(tft_forecast_requests_total[5m])) * 60")),
        stat("Oldest last bar", prom("time() - min(tft_symbol_last_bar_timestamp_seconds)"), unit=units.Seconds,
             description="Seconds since the least recently updated symbol got a bar"),
        series("Requests by source and status",
               prom("sum by (source, status) (rate(tft_forecast_requests_total[5m]))", "{{source}} {{status}}"),
               unit=units.RequestsPerSecond),
        series("Request latency (arrival to result)", *quantiles("tft_forecast_request_latency_seconds"),
               unit=units.Seconds),
        series("Forward-pass batch size", *quantiles("tft_inference_batch_size")),
        series("Forward-pass duration", *quantiles("tft_inference_batch_duration_seconds"), unit=units.Seconds),
        series("Bars ingested", prom("sum(rate(tft_bars_ingested_total[5m]))", "bars/s"), unit=units.Short),
        series("Distribution cache",
               prom("sum by (where) (rate(tft_forecast_cache_hits_total[5m]))", "hit: {{where}}"),
               prom("sum(rate(tft_forecast_cache_misses_total[5m]))", "computed"), unit=units.OpsPerSecond),
    ])


def model_performance() -> dict:
    return dashboard("tft-model", "tft-forecast: model performance by symbol", [
        table("Served model by symbol and horizon, beside the random walk on the same forecasts", SQL(f"""
            SELECT symbol, horizon, count(*) AS forecasts,
                   avg(pinball) AS pinball, avg(rw_pinball) AS rw_pinball,
                   avg(pinball) / nullif(avg(rw_pinball), 0) AS pinball_ratio,
                   avg(covered_68::int) AS coverage_68, avg(rw_covered_68::int) AS rw_coverage_68,
                   avg(covered_95::int) AS coverage_95, avg(rw_covered_95::int) AS rw_coverage_95,
                   avg(direction_hit::int) AS directional_accuracy, avg((log_return > 0)::int) AS up_rate
            FROM forecast_validation WHERE model_version = {ACTIVE}
            GROUP BY symbol, horizon ORDER BY symbol, horizon""")),
        series("Served and predecessor on the same forecasts (shadow pinball loss)",
               prom("tft_shadow_pinball_loss", "{{role}}"), w=12),
        table("Versions", SQL("""
            SELECT version, status, train_start, train_end, promoted_at, promoted_by, reason, replaced
            FROM model_registry ORDER BY created_at DESC LIMIT 20"""), w=12, h=8),
    ])


def accuracy_trends() -> dict:
    return dashboard("tft-accuracy", "tft-forecast: forecast accuracy trends", [
        series("Pinball loss by horizon, beside the random walk",
               prom("tft_live_pinball_loss", "h={{horizon}} {{model}}")),
        series("68% and 95% interval coverage",
               prom('tft_live_interval_coverage{model="tft"}', "h={{horizon}} nominal {{nominal}}"),
               unit=units.PercentUnit),
        series("Directional accuracy, beside always up",
               prom("tft_live_directional_accuracy", "h={{horizon}} {{model}}"), unit=units.PercentUnit),
        series("Forecasts scored", prom("tft_live_validated_forecasts", "h={{horizon}}")),
        series("Pinball loss by outcome day, served model and random walk", SQL(f"""
            SELECT target_date::timestamp AS time, avg(pinball) AS tft, avg(rw_pinball) AS random_walk
            FROM forecast_validation WHERE model_version = {ACTIVE} AND $__timeFilter(validated_at)
            GROUP BY 1 ORDER BY 1""", "time_series"), w=24),
    ])


def resources() -> dict:
    return dashboard("tft-resources", "tft-forecast: resource utilisation", [
        series("Resident memory", prom("process_resident_memory_bytes{job=\"tft-forecast\"}", "{{instance}}"),
               unit=units.BytesIEC),
        series("CPU", prom("rate(process_cpu_seconds_total{job=\"tft-forecast\"}[5m])", "{{instance}}"),
               unit=units.PercentUnit),
        series("Open file descriptors", prom("process_open_fds{job=\"tft-forecast\"}", "{{instance}}")),
        series("Forward passes / s", prom("sum(rate(tft_inference_batch_duration_seconds_count[5m]))", "passes/s")),
        series("Option surface fits", *quantiles("tft_option_surface_fit_seconds"), unit=units.Seconds),
        series("Metrics sink writes", prom("sum(rate(tft_metrics_sink_results_total[5m]))", "rows/s"),
               prom("sum(rate(tft_metrics_sink_errors_total[5m]))", "failed transactions/s")),
    ])


def errors() -> dict:
    return dashboard("tft-errors", "tft-forecast: error analysis", [
        series("Error results by code",
               prom('sum by (code) (rate(tft_forecast_requests_total{status="error"}[5m]))', "{{code}}"),
               unit=units.RequestsPerSecond),
        series("Dead letters by topic", prom("sum by (topic) (rate(tft_dead_letters_total[5m]))", "{{topic}}"),
               unit=units.OpsPerSecond),
        table("Dead letters by reason", prom("sum by (topic, reason) (increase(tft_dead_letters_total[1h]))"),
              description="Reasons with their values taken out: the worker's log and the DLQ topic hold the rest"),
        series("Option chains", prom("sum by (outcome) (rate(tft_option_chains_total[1h]))", "{{outcome}}")),
        series("Rollbacks and swaps", prom("increase(tft_model_rollbacks_total[1h])", "rollbacks"),
               prom("sum(increase(tft_model_swaps_total[1h]))", "swaps")),
    ])


def consumer_lag() -> dict:
    return dashboard("tft-lag", "tft-forecast: consumer lag", [
        series("Lag per topic and partition (committed offsets, kafka-exporter)",
               prom('sum by (topic, partition) (kafka_consumergroup_lag{consumergroup=~"tft-forecast.*"})',
                    "{{topic}}[{{partition}}]"), w=24),
        series("Lag per topic", prom('sum by (topic) (kafka_consumergroup_lag{consumergroup=~"tft-forecast.*"})',
                                     "{{topic}}")),
        series("Messages in per topic", prom("sum by (topic) (rate(kafka_topic_partition_current_offset[5m]))",
                                             "{{topic}}"), unit=units.OpsPerSecond),
        series("Worker's own view: high-water mark minus fetch position",
               prom("tft_consumer_lag_messages", "{{topic}}[{{partition}}]"), w=24,
               description="Reads low (positions run ahead of commits) and goes silent when the worker stalls: "
                           "alert on the exporter's figure"),
    ])


DASHBOARDS = {"service-overview": service_overview, "model-performance": model_performance,
              "accuracy-trends": accuracy_trends, "resources": resources, "errors": errors,
              "consumer-lag": consumer_lag}


def render() -> dict[str, str]:
    return {f"{name}.json": json.dumps(make(), indent=2) + "\n" for name, make in DASHBOARDS.items()}


if __name__ == "__main__":
    for name, text in render().items():
        (OUT / name).write_text(text)
        print(OUT / name)
