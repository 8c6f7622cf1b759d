"""Redis: the forecast cache and per-user rate limits.

A forecast depends only on the model, the symbol's window of bars, the cross-asset
context and the request's options, so a result computed once for that key can be
served again until an input changes: a new bar or a corrected one changes the digest
of the inputs, and so the key.
"""
import hashlib
import time

import orjson
import redis.asyncio as redis

from schemas import ForecastRequest, ForecastResult


def cache_key(model_version: str, request: ForecastRequest, inputs: bytes) -> str:
    """`inputs`: the bytes the forecast was computed from (the window and its context)."""
    options = orjson.dumps([sorted(request.forecast_horizons), sorted(request.confidence_intervals),
                            request.risk_adjustment])
    digest = hashlib.blake2b(inputs + options, digest_size=16).hexdigest()
    return f"tft:forecast:{model_version}:{request.symbol}:{digest}"


class ForecastCache:
    def __init__(self, client: redis.Redis, ttl_s: int):
        self.client = client
        self.ttl_s = ttl_s

    async def get(self, key: str) -> ForecastResult | None:
        raw = await self.client.get(key)
        return None if raw is None else ForecastResult.model_validate_json(raw)

    async def put(self, key: str, result: ForecastResult) -> None:
        await self.client.set(key, result.model_dump_json(), ex=self.ttl_s)


class RateLimiter:
    """Fixed one-minute windows per user; the user's tier is read from the hash `tft:user_tiers`."""

    TIERS_KEY = "tft:user_tiers"

    def __init__(self, client: redis.Redis, limits: dict[str, int], default_tier: str):
        assert default_tier in limits, f"default tier {default_tier!r} has no limit"
        self.client = client
        self.limits = limits
        self.default_tier = default_tier

    async def allow(self, user_id: str) -> tuple[bool, int]:
        """(allowed, limit per minute) for one more request by `user_id`."""
        tier = (await self.client.hget(self.TIERS_KEY, user_id) or b"").decode() or self.default_tier
        limit = self.limits.get(tier, self.limits[self.default_tier])
        if limit == 0:
            return True, 0
        key = f"tft:rate:{user_id}:{int(time.time() // 60)}"
        async with self.client.pipeline(transaction=True) as pipe:
            count, _ = await pipe.incr(key).expire(key, 120).execute()
        return count <= limit, limit
