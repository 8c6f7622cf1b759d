"""Every topic the service reads or writes, declared on the Faust app. Their names are the
wire contract, in stream/names.py; see the README.

The by-symbol topics and the ledger are internal: keyed by symbol and written by the
workers alone, so each event sits in its symbol's home partition (stream.keys).
"""
from schemas import encode
from stream import metrics
from stream.app import app, settings
from stream.config import EXACTLY_ONCE
from stream.names import (BY_SYMBOL, DEAD_LETTERED, FORECAST_LEDGER, FORECAST_REQUESTS, FORECAST_RESULTS,
                          MARKET_TICKS, MODEL_COMMANDS, MODEL_EVENTS, OPTIONS_QUOTES, REGIME_EVENTS, RISK_EVENTS, dlq,
                          names)


def full_name(name: str) -> str:
    return f"{settings.stream.topic_prefix}{name}"


def all_names() -> list[str]:
    return [full_name(n) for n in names()]


def _topic(name: str):
    return app.topic(full_name(name), key_type=bytes, value_type=bytes,
                     partitions=settings.stream.partitions)


market_ticks = _topic(MARKET_TICKS)
options_quotes = _topic(OPTIONS_QUOTES)
forecast_requests = _topic(FORECAST_REQUESTS)
forecast_results = _topic(FORECAST_RESULTS)
regime_events = _topic(REGIME_EVENTS)
risk_events = _topic(RISK_EVENTS)
bars_by_symbol = _topic(MARKET_TICKS + BY_SYMBOL)
requests_by_symbol = _topic(FORECAST_REQUESTS + BY_SYMBOL)
forecast_ledger = _topic(FORECAST_LEDGER)
model_commands = _topic(MODEL_COMMANDS)
model_events = _topic(MODEL_EVENTS)
dead_letters = {name: _topic(dlq(name)) for name in DEAD_LETTERED}
if settings.stream.processing_guarantee == EXACTLY_ONCE:
    # whose offsets commit in a transaction with the outputs they caused (stream/delivery.py)
    app.transactional_topics = frozenset(t.get_topic_name() for t in (forecast_requests, requests_by_symbol))


async def send_risk_events(delivery, key: bytes, events, event=None) -> None:
    """A served forecast's risk events (its symbol's level changed), whichever way it was
    asked: with the other outputs of `event`, the request's, if it came over Kafka."""
    for risk in events:
        await delivery.send(risk_events, key, encode(risk), event)
        metrics.risk_events_total.labels(level=risk.level).inc()
