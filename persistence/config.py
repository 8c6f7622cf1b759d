from dataclasses import dataclass, field


@dataclass(frozen=True)
class PersistenceConfig:
    database_url: str = "postgresql://postgres@127.0.0.1:5432/test"
    pool_min: int = 1
    pool_max: int = 5
    sink_batch: int = 500  # the metrics sink writes this many served requests per transaction ...
    sink_within_s: float = 0.5  # ... or what came within this long, whichever is first
    sink_retry_s: float = 1.0  # wait between attempts while PostgreSQL is away
    validate_every_s: float = 2.0  # how often forecasts whose outcome arrived are scored
    # How often the live accuracy gauges are read again: an aggregate over every scored row,
    # which every pass at 10,000 requests/min took PostgreSQL's share of the two cores.
    accuracy_every_s: float = 30.0
    redis_host: str = "127.0.0.1"
    redis_port: int = 6379
    redis_db: int = 0
    redis_timeout_s: float = 0.5
    redis_retry_s: float = 1.0  # after a failure, Redis is tried again this much later
    cache_ttl_s: int = 3600  # shared forecast distributions
    receipt_ttl_s: int = 3600  # how long a redelivered request is answered as it was first
    # requests per minute by tier; 0 means unlimited. Users map to tiers in Redis.
    rate_limits: dict[str, int] = field(default_factory=lambda: {"free": 60, "pro": 600, "internal": 0})
    default_tier: str = "free"
