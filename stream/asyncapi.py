"""The AsyncAPI 3.0 document of every Kafka topic the service reads or writes, generated
from the topic names (stream/names.py) and the schemas of their payloads, as
schemas/openapi.py generates the HTTP API's. The worker serves it at /asyncapi.json;
`python -m stream.asyncapi > docs/asyncapi.json` writes the committed copy.

Operations are the service's own: `receive` where it reads a topic, `send` where it
writes one; each says who is on the other side. Payload schemas are pydantic's, in
AsyncAPI 3.0's default dialect (JSON Schema draft 7).
"""
import json
import sys
from dataclasses import dataclass
from datetime import UTC, datetime

import orjson
from pydantic import BaseModel

from schemas import (SCHEMA_VERSION, Bar, BarSeries, BatchRequest, DeadLetter, ForecastRequest, ForecastResult, ModelEvent,
                     OptionChain, RegimeEvent, RetrainCommand, RiskEvent, ServedForecast, encode)
from schemas.http import BATCH_EXAMPLE, REQUEST_EXAMPLE, RESULT_EXAMPLE
from schemas.openapi import component_schemas
from schemas.portfolio import PORTFOLIO_EXAMPLE, PORTFOLIO_RESULT_EXAMPLE, PortfolioRequest, PortfolioResult
from stream.config import AT_LEAST_ONCE, EXACTLY_ONCE, StreamConfig
from stream.names import (BY_SYMBOL, DEAD_LETTERED, FORECAST_LEDGER, FORECAST_REQUESTS, FORECAST_RESULTS, MARKET_TICKS,
                          MODEL_COMMANDS, MODEL_EVENTS, OPTIONS_QUOTES, REGIME_EVENTS, RISK_EVENTS, dlq)

SERVICE = "tft-forecast"
INPUTS = (Bar, BarSeries, OptionChain, ForecastRequest, BatchRequest, PortfolioRequest, RetrainCommand)  # schemas as the service validates them
_BINDING = "0.5.0"  # of the Kafka bindings

# Delivery, as the channel table of the docs shows it, and said in full in each description.
ALWAYS_AT_LEAST_ONCE = f"`{AT_LEAST_ONCE}` under either guarantee"
TRANSACTIONAL = f"`{AT_LEAST_ONCE}`, or `{EXACTLY_ONCE}` with TFT_PROCESSING_GUARANTEE={EXACTLY_ONCE}"
READ = ("Read at least once: an offset is committed only after what its event caused was "
        "handed to the producer, so a crash may deliver an event again, never lose one.")
IN_TRANSACTION = (f"With TFT_PROCESSING_GUARANTEE={EXACTLY_ONCE}, written in one Kafka transaction with the offset "
                  "past the request that caused it: a subscriber reading with isolation.level=read_committed sees "
                  f"it once; under {AT_LEAST_ONCE} (the default) it may come twice, identical.")


def _key(description: str, example: str | None) -> dict:
    return {"type": "string", "description": description} | ({"examples": [example]} if example else {})


SYMBOL = _key("the symbol (UTF-8)", "SPY")
SYMBOL_OR_NONE = _key("the symbol (UTF-8, any case), or none", "SPY")
ANY_KEY = _key("any, or none: each member goes by its symbol", "open-2024-01-02")
JOB_ID = _key("the job id (`rollback-<version>` for an automatic rollback)", "weekly-2024-01-05")
THEIR_KEY = _key("the refused message's own key, as it came (none if it had none)", None)


@dataclass(frozen=True)
class Message:
    model: type[BaseModel]
    key: dict
    example: dict
    summary: str


@dataclass(frozen=True)
class Channel:
    address: str
    summary: str
    messages: tuple[Message, ...]
    delivery: str  # the short form; the description says it in full
    description: str
    received_from: str | None = None  # who publishes what the service reads; None: it does not read it
    sent_to: str | None = None  # who reads what the service writes; None: it does not write it


def wire(model: type[BaseModel], value: dict) -> dict:
    """`value` as the service writes it: validated, defaults filled in, nulls left out."""
    return orjson.loads(encode(model.model_validate_json(orjson.dumps(value))))


BAR = {"symbol": "SPY", "ts": "2023-12-29", "open": 476.49, "high": 477.03, "low": 473.3, "close": 475.31,
       "volume": 122283100}
SERIES = {"symbol": "SPY", "bars": {"ts": ["2023-12-28", "2023-12-29"], "open": [476.88, 476.49],
                                    "high": [477.55, 477.03], "low": [476.26, 473.3], "close": [476.69, 475.31],
                                    "volume": [77158100, 122283100]}}
CHAIN = {"symbol": "AAPL", "as_of": "2014-06-02", "spot": 633.4, "rate": 0.0009,
         "quotes": [{"expiry": "2014-06-21", "strike": 630.0, "right": "C", "bid": 11.8, "ask": 12.0},
                    {"expiry": "2014-06-21", "strike": 630.0, "right": "P", "bid": 7.9, "ask": 8.05}]}
COMMAND = {"job_id": "weekly-2024-01-05", "retrain_type": "incremental", "priority": "normal",
           "symbols": ["SPY", "QQQ"], "reason": "weekly retrain"}
MODEL_EVENT = {"job_id": "weekly-2024-01-05", "kind": "promoted", "at": "2024-01-05T06:41:12Z", "progress": 1.0,
               "message": "tft-2024-01-05-1a2b3c4 promoted: the gate passed", "version": "tft-2024-01-05-1a2b3c4"}
REGIME = {"kind": "change", "symbol": "SPY", "as_of": "2023-12-29", "since": "2023-12-29", "sessions": 1,
          "previous": "Sideways", "model_version": "tft-2023-12-29-052adec",
          "regime": {"name": "Bull", "confidence": 0.97,
                     "probabilities": {"Bull": 0.97, "Bear": 0.0, "Sideways": 0.03, "Crisis": 0.0}}}
RISK = {"symbol": "TSLA", "as_of": "2023-12-29", "level": "elevated", "previous": "normal", "interval_scale": 1.13,
        "var_95": 0.071, "model_version": "tft-2023-12-29-052adec", "request_id": "abc",
        "rules": [{"name": "drawdown", "value": 1.28, "factor": 1.13, "applied": True,
                   "reason": "the price is 28% below its 252-session high"}],
        "message": "TSLA risk is elevated (was normal): intervals widened 1.13x; "
                   "the price is 28% below its 252-session high"}
LEDGER = {"request": REQUEST_EXAMPLE, "result": RESULT_EXAMPLE, "source": "kafka", "last_close": 475.31}


def dead_letter_example(source: str) -> dict:
    return wire(DeadLetter, {"topic": source, "partition": 2, "offset": 18771, "value": '{"symbol": ',
                             "reason": "malformed JSON: Invalid JSON: EOF while parsing a value at line 1 column 11",
                             "failed_at": datetime(2024, 1, 2, 14, 30, 5, tzinfo=UTC).isoformat()})


REQUEST = Message(ForecastRequest, SYMBOL_OR_NONE, REQUEST_EXAMPLE, "one symbol's forecast request")
BATCH = Message(BatchRequest, ANY_KEY, BATCH_EXAMPLE,
                "many symbols at once: one result per symbol, each with the batch id and the request id "
                "`<batch_id>:<symbol>`")
BOOK = Message(PortfolioRequest, ANY_KEY, PORTFOLIO_EXAMPLE,
               "a book: served where it lands, its members forecast as a batch's are, one result with its "
               "request id")
FORWARDED = "Internal: events re-keyed to their symbol's home partition (murmur2 of the key), written and read by " \
            "the workers alone, for producers whose partitioner differs or who send no key."
CHANNELS = (
    Channel(MARKET_TICKS, "daily bars", (Message(Bar, _key("the symbol exactly (UTF-8), or none", "SPY"), BAR,
                                                 "one OHLCV bar; cross-asset series (VIX, ...) the same way"),
                                         Message(BarSeries, _key("the symbol exactly (UTF-8), or none", "SPY"),
                                                 SERIES, "many bars of one symbol, column by column: a backfill "
                                                 "(a seed); the symbol's regime is read once, at its last bar")),
            ALWAYS_AT_LEAST_ONCE, f"Checked as market data before it joins its symbol's window. {READ}",
            received_from="market-data feeds, and `tft-forecast replay`"),
    Channel(OPTIONS_QUOTES, "option chains",
            (Message(OptionChain, SYMBOL_OR_NONE, CHAIN, "an underlying's chain, whole"),), ALWAYS_AT_LEAST_ONCE,
            f"Each chain is fitted into its symbol's option surface; one older than the surface is refused. {READ}",
            received_from="options feeds, and `tft-forecast publish-chains`"),
    Channel(FORECAST_REQUESTS, "forecast requests", (REQUEST, BATCH, BOOK), TRANSACTIONAL,
            "A single request, a batch or a book: the three messages are the channel's oneOf. Without `request_id` the "
            f"message's topic, partition and offset name it, so a redelivered request keeps its id. {READ} "
            f"With TFT_PROCESSING_GUARANTEE={EXACTLY_ONCE} the offset commits in the transaction of the outputs.",
            received_from="trading and research systems (stream/client.py, `tft-forecast request`)"),
    Channel(FORECAST_RESULTS, "forecast results",
            (Message(ForecastResult, SYMBOL, RESULT_EXAMPLE, "one per request id; an error is a result too"),
             Message(PortfolioResult, _key("the request id (UTF-8)", "book-6040"), PORTFOLIO_RESULT_EXAMPLE,
                     "a book's answer, `kind` portfolio; its members' results are inside it, not beside it")),
            TRANSACTIONAL, f"One result per request id, keyed by its symbol (a book's by its request id). "
                           f"{IN_TRANSACTION}",
            sent_to="whoever asked on forecast.requests, matching `request_id`"),
    Channel(REGIME_EVENTS, "market regimes", (Message(RegimeEvent, SYMBOL, REGIME, "change or heartbeat"),),
            ALWAYS_AT_LEAST_ONCE,
            "One per bar of every traded symbol (one per series, at its last bar): `change` when its most likely regime is not the one before, else "
            "`heartbeat`. A bar delivered again sends its event again; `as_of` tells them apart.",
            received_from=f"{SERVICE} itself: its history agent keeps the changes in PostgreSQL",
            sent_to="trading and research systems, dashboards"),
    Channel(RISK_EVENTS, "risk levels", (Message(RiskEvent, SYMBOL, RISK, "a symbol's risk level changed"),),
            TRANSACTIONAL, "Told by the first forecast made after a symbol's risk level changed. "
                           f"{IN_TRANSACTION} Those of forecasts asked over HTTP go at least once.",
            received_from=f"{SERVICE} itself: its history agent keeps them in PostgreSQL",
            sent_to="risk systems and dashboards"),
    Channel(MODEL_COMMANDS, "retraining commands",
            (Message(RetrainCommand, _key("any, or none (the service keys its own by job id)", "weekly-2024-01-05"),
                     COMMAND, "train a candidate, gate it, promote it if it passes"),),
            ALWAYS_AT_LEAST_ONCE, "A command delivered again is one job: its `job_id`, else the message's "
                                  f"coordinates, names it. {READ}",
            received_from=f"operators' tools, and {SERVICE} itself", sent_to=f"{SERVICE} itself: POST /model/retrain "
                                                                          "and the retraining triggers"),
    Channel(MODEL_EVENTS, "model lifecycle", (Message(ModelEvent, JOB_ID, MODEL_EVENT, "a job's step"),),
            ALWAYS_AT_LEAST_ONCE, "A retraining job's steps (the gate's figures on `gate`), versions promoted, and "
                                  "automatic rollbacks.",
            sent_to="operators and dashboards"),
    Channel(MARKET_TICKS + BY_SYMBOL, "bars, at home", (Message(Bar, SYMBOL, wire(Bar, BAR), "a forwarded bar"),
                                                        Message(BarSeries, SYMBOL, wire(BarSeries, SERIES),
                                                                "a forwarded series, less its impossible bars")),
            ALWAYS_AT_LEAST_ONCE, FORWARDED,
            received_from=f"{SERVICE} itself", sent_to=f"{SERVICE} itself"),
    Channel(FORECAST_REQUESTS + BY_SYMBOL, "requests, at home",
            (Message(ForecastRequest, SYMBOL, wire(ForecastRequest, REQUEST_EXAMPLE),
                     "a forwarded request (a batch's members go one by one), named where it first arrived"),),
            TRANSACTIONAL, f"{FORWARDED} {IN_TRANSACTION}",
            received_from=f"{SERVICE} itself", sent_to=f"{SERVICE} itself"),
    Channel(FORECAST_LEDGER, "served forecasts",
            (Message(ServedForecast, SYMBOL, wire(ServedForecast, LEDGER), "one per served request"),),
            TRANSACTIONAL, "Internal: one record per served request, over Kafka or HTTP; the metrics sink writes "
                           "PostgreSQL from it and acknowledges a batch once its transaction commits, so the rows "
                           f"are exactly once under either guarantee. {IN_TRANSACTION} Records of HTTP requests go "
                           "at least once.",
            received_from=f"{SERVICE} itself: the metrics sink", sent_to=f"{SERVICE} itself"),
    *(Channel(dlq(source), f"refused from {source}",
              (Message(DeadLetter, THEIR_KEY, dead_letter_example(source), "the original bytes, and why"),),
              TRANSACTIONAL if source == FORECAST_REQUESTS else ALWAYS_AT_LEAST_ONCE,
              f"What is not a valid event on {source} (and its by-symbol topic): the original bytes as text, where "
              "they were and why they were refused; no headers. The agent carries on with the next event."
              + (f" {IN_TRANSACTION}" if source == FORECAST_REQUESTS else ""),
              sent_to="operators") for source in DEAD_LETTERED),
)


def _camel(*words: str) -> str:
    parts = [p for w in words for p in w.replace("-", ".").split(".")]
    return parts[0] + "".join(p.title() for p in parts[1:])


def _message_id(m: Message) -> str:
    return m.model.__name__[0].lower() + m.model.__name__[1:]


def _message(m: Message) -> dict:
    name = m.model.__name__
    return {"name": name, "summary": m.summary, "payload": {"$ref": f"#/components/schemas/{name}"},
            "bindings": {"kafka": {"key": m.key, "bindingVersion": _BINDING}},
            "examples": [{"name": _message_id(m), "payload": m.example}]}


def _operations(channel_id: str, c: Channel, message_ids: list[str]) -> dict:
    sides = (("receive", c.received_from, f"{SERVICE} reads {c.address}; it is published by"),
             ("send", c.sent_to, f"{SERVICE} writes {c.address}; it is read by"))
    return {_camel(action, c.address): {
        "action": action, "channel": {"$ref": f"#/channels/{channel_id}"}, "summary": f"{action} {c.summary}",
        "description": f"{says} {who}. Delivery: {c.delivery}.",
        "messages": [{"$ref": f"#/channels/{channel_id}/messages/{m}"} for m in message_ids],
    } for action, who, says in sides if who}


def draft7(node):
    """Pydantic writes JSON Schema 2020-12, whose `prefixItems` draft 7 spells `items` (a tuple's)."""
    if isinstance(node, dict):
        return {("items" if k == "prefixItems" else k): draft7(v) for k, v in node.items()}
    return [draft7(v) for v in node] if isinstance(node, list) else node


def document() -> dict:
    channels, operations = {}, {}
    for c in CHANNELS:
        channel_id = _camel(c.address)
        messages = {_message_id(m): _message(m) for m in c.messages}
        channels[channel_id] = {"address": c.address, "title": c.summary, "x-delivery": c.delivery,
                                "description": c.description, "messages": messages,
                                "bindings": {"kafka": {"bindingVersion": _BINDING}}}
        operations |= _operations(channel_id, c, list(messages))
    models = dict.fromkeys(m.model for c in CHANNELS for m in c.messages)
    return {
        "asyncapi": "3.0.0",
        "info": {"title": SERVICE, "version": str(SCHEMA_VERSION),
                 "description": "Every Kafka topic of the forecast service. Each address is the topic's name after "
                                "KAFKA_TOPIC_PREFIX (empty by default), which is prepended to every topic. Keys are "
                                "UTF-8 strings; values are JSON objects with a `schema_version` (the version "
                                f"above). Delivery is `{AT_LEAST_ONCE}` by default; TFT_PROCESSING_GUARANTEE="
                                f"{EXACTLY_ONCE} makes a request's outputs transactional, for subscribers reading "
                                "read_committed. Operations are the service's own: `receive` where it reads a "
                                "topic, `send` where it writes one."},
        "defaultContentType": "application/json",
        "servers": {"kafka": {"host": StreamConfig().bootstrap_servers, "protocol": "kafka",
                              "description": "KAFKA_BOOTSTRAP_SERVERS (its default here); TLS and SASL as "
                                             "KAFKA_SECURITY_PROTOCOL says"}},
        "channels": channels,
        "operations": operations,
        "components": {"schemas": draft7(component_schemas(models, INPUTS))},
    }


def dumps(doc: dict) -> str:
    """The committed form: pretty, keys sorted, a newline at the end."""
    return json.dumps(doc, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


if __name__ == "__main__":
    sys.stdout.write(dumps(document()))
