"""What the dashboards and alert rules query is there: every metric of the worker's a
panel or rule names is exported by a running worker, every Kafka metric is one the lag
exporter serves, every SQL panel runs on the migrated schema, and the committed JSON is
what monitoring/dashboards.py renders."""
import json
import re
from pathlib import Path

import asyncpg
import httpx
import pytest
import yaml

from features.data import load, select
from monitoring import dashboards
from tests.helpers import documentation
from tests.workers import publish_and_wait

pytestmark = pytest.mark.integration
ROOT = Path(__file__).resolve().parents[2]
# What danielqsj/kafka-exporter serves (its README), of what the rules and panels use.
EXPORTER = {"kafka_consumergroup_lag", "kafka_topic_partition_current_offset"}
NAME = re.compile(r"\b((?:tft|kafka|process)_[a-z0-9_]+|up)\b(?=\s*(?:\{|\[|\)|$|==|>|<|\*|/|-|\+|unless|and))")


def prometheus_queries() -> list[str]:
    panels = [p for d in dashboards.DASHBOARDS.values() for p in d()["panels"]]
    exprs = [t["expr"] for p in panels for t in p["targets"] if "expr" in t]
    rules = yaml.safe_load((ROOT / "monitoring/prometheus/alerts.yml").read_text())
    return exprs + [r["expr"] for g in rules["groups"] for r in g["rules"]]


def exported(text: str) -> set[str]:
    """Sample names the exposition declares, whether or not a sample has been taken yet."""
    names = set()
    for line in text.splitlines():
        if line.startswith("# TYPE "):
            _, _, name, kind = line.split()
            counter = name if name.endswith("_total") else f"{name}_total"  # as client versions write it
            names |= {"counter": {counter}, "histogram": {f"{name}_bucket", f"{name}_count", f"{name}_sum"}
                      }.get(kind, {name})
    return names | {"up"}  # Prometheus's own, per target


def test_the_committed_dashboards_are_the_rendered_ones():
    for name, text in dashboards.render().items():
        assert (ROOT / "monitoring/grafana/dashboards" / name).read_text() == text, "run monitoring/dashboards.py"
    assert len(dashboards.DASHBOARDS) == 6


def test_the_alert_rules_say_what_and_how_bad():
    rules = yaml.safe_load((ROOT / "monitoring/prometheus/alerts.yml").read_text())["groups"][0]["rules"]
    assert {r["alert"] for r in rules} >= {"ConsumerLagGrowing", "ErrorRateHigh", "DeadLettersRising", "NoResults",
                                           "ModelStale"}
    for r in rules:
        assert r["labels"]["severity"] in ("warning", "critical") and r["annotations"]["summary"] and r["for"]


async def test_every_metric_queried_is_exported(worker, data_dir):
    # SPY's real last bar again (a bar for a day held replaces it), so that its series has a
    # sample whatever the worker went through before
    await publish_and_wait(worker, select(load(data_dir).all_bars(), ["SPY"], "2023-12-29", "2023-12-29"))
    async with httpx.AsyncClient(base_url=worker.url) as http:
        await http.post("/forecast/generate", json={"symbol": "SPY"})  # a few series get their first samples
        text = (await http.get("/metrics")).text
    have = exported(text)
    queried = {m for q in prometheus_queries() for m in NAME.findall(q)}
    assert len(queried) > 25
    ours = {m for m in queried if not m.startswith("kafka_")}
    assert ours - have == set()
    assert {m for m in queried if m.startswith("kafka_")} <= EXPORTER
    # the figures the README promises are among them
    assert {"tft_model_info", "tft_forecast_cache_misses_total", "tft_symbol_last_bar_timestamp_seconds",
            "tft_inference_batch_duration_seconds_bucket"} <= have
    assert re.search(r'^tft_model_info\{version="[^"]+"\} 1\.0$', text, re.M)
    assert re.search(r'^tft_symbol_last_bar_timestamp_seconds\{symbol="SPY"\} \d', text, re.M)


async def test_every_sql_panel_runs_on_the_schema(worker, database_url):
    queries = [t["rawSql"] for d in dashboards.DASHBOARDS.values() for p in d()["panels"] for t in p["targets"]
               if "rawSql" in t]
    assert len(queries) >= 3
    conn = await asyncpg.connect(database_url)  # migrated by the worker
    try:
        for q in queries:
            await conn.fetch(re.sub(r"\$__timeFilter\((\w+)\)", r"\1 > now() - interval '6 hours'", q))
    finally:
        await conn.close()


def test_compose_provisions_what_is_committed():
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())["services"]
    mounted = [v.split(":")[0] for s in compose.values() for v in s.get("volumes", []) if v.startswith("./")]
    assert {"./monitoring/prometheus/alerts.yml", "./monitoring/grafana/dashboards"} <= set(mounted)
    assert all((ROOT / m).exists() for m in mounted)
    datasources = yaml.safe_load((ROOT / "monitoring/grafana/provisioning/datasources/datasources.yml").read_text())
    uids = {d["uid"] for d in datasources["datasources"]}
    used = {t["datasource"]["uid"] for d in dashboards.DASHBOARDS.values() for p in d()["panels"]
            for t in p["targets"]}
    assert used <= uids
    assert json.loads((ROOT / "monitoring/grafana/dashboards/consumer-lag.json").read_text())["uid"] == "tft-lag"


def test_the_documentation_lists_every_metric_with_its_labels():
    from prometheus_client.metrics import MetricWrapperBase

    from stream import metrics
    listed = dict(re.findall(r"^\| `(tft_[a-z0-9_]+)` \| \w+ \| ([^|]*) \|", documentation(), re.M))
    served = [m for m in vars(metrics).values() if isinstance(m, MetricWrapperBase)]
    assert len(served) > 20
    for m in served:
        name = m._name if m._name.endswith("_total") or m._type != "counter" else f"{m._name}_total"
        assert name in listed, f"{name} is not in the documentation's table (docs/operating.md)"
        assert re.findall(r"`(\w+)`", listed[name]) == list(m._labelnames), name
