from dataclasses import dataclass, field


@dataclass(frozen=True)
class PersistenceConfig:
    database_url: str = "postgresql://postgres@127.0.0.1:5432/test"
    pool_min: int = 1
    pool_max: int = 5
    sink_flush_rows: int = 500  # the metrics sink writes when this many rows wait ...
    sink_flush_interval_s: float = 1.0  # ... or this often, whichever comes first
    redis_host: str = "127.0.0.1"
    redis_port: int = 6379
    redis_db: int = 0
    cache_ttl_s: int = 3600
    # requests per minute by tier; 0 means unlimited. Users map to tiers in Redis.
    rate_limits: dict[str, int] = field(default_factory=lambda: {"free": 60, "pro": 600, "internal": 0})
    default_tier: str = "free"
