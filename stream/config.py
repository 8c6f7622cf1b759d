from dataclasses import dataclass
from pathlib import Path

AT_LEAST_ONCE, EXACTLY_ONCE = "at_least_once", "exactly_once"  # TFT_PROCESSING_GUARANTEE


@dataclass(frozen=True)
class StreamConfig:
    bootstrap_servers: str = "127.0.0.1:9092"
    app_id: str = "tft-forecast"
    # Prepended to every topic name: lets tests and tenants share a cluster without clashing.
    topic_prefix: str = ""
    partitions: int = 4
    replication_factor: int = 1
    state_dir: Path = Path(".run/faust")
    # How other workers reach this one (its canonical URL, for routing HTTP requests to
    # the owner of a symbol), and the address its web server binds; bind defaults to host.
    web_host: str = "127.0.0.1"
    web_bind: str | None = None
    web_port: int = 8007
    # Bars kept per symbol: at least the served model's history (the default model reads
    # 315; `train --full` 504), checked when the worker starts.
    window_bars: int = 512
    lag_interval_s: float = 5.0
    max_event_bytes: int = 64 << 10  # larger values on an input topic go to its DLQ unread
    max_body_bytes: int = 64 << 10  # larger HTTP bodies are answered 413 unread
    producer_linger_ms: int = 5
    # A request agent serves what arrived within this long as one batch: at saturation
    # batches fill (TFT_MAX_BATCH) before it passes; at low rates it is latency.
    batch_within_ms: float = 1.0
    # How soon a context series written by another worker reaches this one's forecasts.
    context_refresh_s: float = 1.0
    commit_interval_s: float = 1.0
    # How long the group waits for a worker that stopped answering (kill -9, a lost
    # node) before its partitions move: most of a failover's wait (README, "Failover").
    # Kafka allows 6 s at least; heartbeats go every 3 s from the consumer's own thread,
    # so a busy event loop does not miss them.
    session_timeout_s: float = 10.0
    # Copies of each table partition that other workers keep warm from its changelog, so
    # that a partition moving to one of them after a death needs no restore.
    standby_replicas: int = 1
    # at_least_once, or exactly_once for read_committed subscribers (stream/delivery.py)
    processing_guarantee: str = AT_LEAST_ONCE
