"""Every topic the service reads or writes. Names are the wire contract; see the README."""
from stream.app import app, settings

MARKET_TICKS = "market.ticks"
FORECAST_REQUESTS = "forecast.requests"
FORECAST_RESULTS = "forecast.results"
REGIME_EVENTS = "regime.events"
RISK_EVENTS = "risk.events"
MODEL_COMMANDS = "model.commands"
MODEL_EVENTS = "model.events"
INPUTS = (MARKET_TICKS, FORECAST_REQUESTS, MODEL_COMMANDS)
OUTPUTS = (FORECAST_RESULTS, REGIME_EVENTS, RISK_EVENTS, MODEL_EVENTS)


def dlq(name: str) -> str:
    return f"{name}.dlq"


def full_name(name: str) -> str:
    return f"{settings.stream.topic_prefix}{name}"


def all_names() -> list[str]:
    return [full_name(n) for n in (*INPUTS, *OUTPUTS, *map(dlq, INPUTS))]


def _topic(name: str):
    return app.topic(full_name(name), key_type=bytes, value_type=bytes,
                     partitions=settings.stream.partitions)


market_ticks = _topic(MARKET_TICKS)
forecast_requests = _topic(FORECAST_REQUESTS)
forecast_results = _topic(FORECAST_RESULTS)
regime_events = _topic(REGIME_EVENTS)
risk_events = _topic(RISK_EVENTS)
dead_letters = {name: _topic(dlq(name)) for name in INPUTS}
