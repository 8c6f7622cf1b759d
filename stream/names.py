"""Every topic's name, without the Faust app: the wire contract (README, "Talking to it
over Kafka") that stream/topics.py declares on the app and stream/client.py talks to."""
MARKET_TICKS = "market.ticks"
OPTIONS_QUOTES = "options.quotes"
FORECAST_REQUESTS = "forecast.requests"
FORECAST_RESULTS = "forecast.results"
REGIME_EVENTS = "regime.events"
RISK_EVENTS = "risk.events"
MODEL_COMMANDS = "model.commands"
MODEL_EVENTS = "model.events"
INPUTS = (MARKET_TICKS, OPTIONS_QUOTES, FORECAST_REQUESTS, MODEL_COMMANDS)
OUTPUTS = (FORECAST_RESULTS, REGIME_EVENTS, RISK_EVENTS, MODEL_EVENTS)
BY_SYMBOL = ".by-symbol"
FORECAST_LEDGER = "forecast.ledger"
INTERNAL = (MARKET_TICKS + BY_SYMBOL, FORECAST_REQUESTS + BY_SYMBOL, FORECAST_LEDGER)
DEAD_LETTERED = (*INPUTS, FORECAST_LEDGER, REGIME_EVENTS, RISK_EVENTS)  # the topics whose agents refuse to a DLQ


def dlq(name: str) -> str:
    return f"{name}.dlq"


def names() -> list[str]:
    """Every topic, without KAFKA_TOPIC_PREFIX."""
    return [*INPUTS, *OUTPUTS, *INTERNAL, *map(dlq, DEAD_LETTERED)]
