"""What comes in: the contract's constants and the strictly validated events producers
send (bars, option chains, forecast requests, retrain commands), on a topic or over HTTP.
What the service sends out is in schemas.results. Field names are the wire contract in the README."""
import math
import re
from datetime import date, datetime
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, model_validator

from schemas.codec import decode

SCHEMA_VERSION = 1
# The contract's one home for both: a served model must produce exactly these (checked at start).
HORIZONS = (1, 5, 10, 21)  # trading days
QUANTILES = (0.1, 0.25, 0.5, 0.75, 0.9)  # levels of the `quantiles` of every forecast
QUANTILE_KEYS = tuple(str(q) for q in QUANTILES)

_SYMBOL = re.compile(r"^[A-Z0-9^][A-Z0-9.\-_=^]{0,23}$")


def check_symbol(value: object) -> object:
    """A string is stripped, upper-cased and checked against the symbol pattern."""
    if isinstance(value, str):
        value = value.strip().upper()
        if not _SYMBOL.match(value):
            raise ValueError("symbol must be 1-24 characters of A-Z, 0-9, '.', '-', '_', '=', '^'")
    return value


def _finite(value: float) -> float:
    if not math.isfinite(value):
        raise ValueError("must be a finite number")
    return value


# Names and ids end up in PostgreSQL text and jsonb, which cannot hold NUL, and in logs:
# no control characters.
Name = Annotated[str, Field(min_length=1, max_length=128, pattern=r"^[^\x00-\x1f\x7f]+$")]
Symbol = Annotated[str, BeforeValidator(check_symbol),
                  Field(description="1-24 characters of A-Z, 0-9, '.', '-', '_', '=', '^' (case-insensitive)")]
Price = Annotated[float, Field(gt=0), AfterValidator(_finite)]
Version = Annotated[int, Field(ge=1, le=SCHEMA_VERSION)]


class Event(BaseModel):
    # Unknown fields are rejected so that a typo in a producer surfaces at once.
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)
    schema_version: Version = SCHEMA_VERSION


class Bar(Event):
    """One OHLCV bar on `market.ticks`; cross-asset series (VIX, fed funds) use the same shape."""

    symbol: Symbol
    ts: date | datetime
    open: Price
    high: Price
    low: Price
    close: Price
    volume: Annotated[float, Field(ge=0), AfterValidator(_finite)] = 0.0

    @model_validator(mode="after")
    def _range(self) -> "Bar":
        # Real feeds carry bars whose open or close sits outside [low, high] (see the
        # data README); only an inverted range is impossible.
        if self.low > self.high:
            raise ValueError(f"low {self.low} is above high {self.high}")
        return self

    @property
    def day(self) -> date:
        return self.ts.date() if isinstance(self.ts, datetime) else self.ts

    def each(self) -> list["Bar"]:
        """The bars of the message, as for a BarSeries."""
        return [self]


NonNegative = Annotated[float, Field(ge=0), AfterValidator(_finite)]
MAX_CHAIN_QUOTES = 10_000  # about 0.8 MB of JSON: under Kafka's default 1 MB message


MAX_SERIES_BARS = 512  # a whole window; at most about 53 KB of JSON, under max_event_bytes


class Columns(BaseModel):
    """A symbol's bars column by column, oldest first."""
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)
    ts: Annotated[list[date], Field(min_length=1, max_length=MAX_SERIES_BARS)]
    open: list[Price]
    high: list[Price]
    low: list[Price]
    close: list[Price]
    volume: list[NonNegative]

    @model_validator(mode="after")
    def _rows(self) -> "Columns":
        n = len(self.ts)
        if any(len(c) != n for c in (self.open, self.high, self.low, self.close, self.volume)):
            raise ValueError(f"every column must hold the {n} bars that ts dates")
        if any(a >= b for a, b in zip(self.ts, self.ts[1:])):
            raise ValueError("ts must be strictly increasing")
        if inverted := [str(t) for t, lo, h in zip(self.ts, self.low, self.high) if lo > h]:
            raise ValueError(f"low is above high on {inverted[:5]}")
        return self


class BarSeries(Event):
    """Many bars of one symbol in one message on `market.ticks`: a backfill (a seed, a
    vendor's history). Each bar is checked and joins the window as a single Bar would,
    but the window is stored, and the symbol's regime read, once for the series rather
    than once per bar: a seed of 512 bars as one message instead of 512."""

    symbol: Symbol
    bars: Columns

    @classmethod
    def of(cls, bars: list[Bar]) -> "BarSeries":
        """The series of `bars`, one symbol's, in date order (checked as they were built)."""
        columns = {c: [getattr(b, c) for b in bars] for c in ("open", "high", "low", "close", "volume")}
        return cls.model_construct(symbol=bars[0].symbol, bars=Columns.model_construct(
            ts=[b.day for b in bars], **columns))

    def each(self) -> list[Bar]:
        """The series as single bars (validated already, column by column)."""
        c = self.bars
        return [Bar.model_construct(symbol=self.symbol, ts=t, open=o, high=h, low=lo, close=cl, volume=v)
                for t, o, h, lo, cl, v in zip(c.ts, c.open, c.high, c.low, c.close, c.volume)]


def decode_ticks(raw: bytes | None) -> Bar | BarSeries:
    """A `market.ticks` value: one bar, or a series (the one form with "bars")."""
    return decode(BarSeries if raw and b'"bars"' in raw else Bar, raw)


class ChainQuote(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)
    expiry: date
    strike: Price
    right: Literal["C", "P"]
    bid: NonNegative
    ask: NonNegative

    @model_validator(mode="after")
    def _spread(self) -> "ChainQuote":
        if self.ask < self.bid:
            raise ValueError(f"ask {self.ask} is below bid {self.bid}")
        return self


class OptionChain(Event):
    """`options.quotes`: one underlying's option chain at a moment (a day's close, say),
    whole, since its surface is fitted from all expiries together."""

    symbol: Symbol
    as_of: date
    spot: Price  # the underlying's price the strikes refer to (unadjusted)
    rate: Annotated[float, Field(ge=-0.05, le=0.5), AfterValidator(_finite)] | None = None  # per year; fed funds if absent
    quotes: Annotated[list[ChainQuote], Field(min_length=1, max_length=MAX_CHAIN_QUOTES)]

    @model_validator(mode="after")
    def _expiries(self) -> "OptionChain":
        expired = sorted({str(q.expiry) for q in self.quotes if q.expiry <= self.as_of})
        if expired:
            raise ValueError(f"expiries {expired[:5]} are not after as_of {self.as_of}")
        return self


def check_horizons(horizons: list[int]) -> None:
    unknown = sorted(set(horizons) - set(HORIZONS))
    if unknown:
        raise ValueError(f"unknown horizon(s) {unknown}; supported: {list(HORIZONS)}")
    if len(set(horizons)) != len(horizons):
        raise ValueError("forecast_horizons has duplicates")


class ForecastOptions(Event):
    """What a single request and a batch share: who asks, and how the answer is shaped."""

    user_id: Name = "anonymous"
    forecast_horizons: Annotated[list[int], Field(min_length=1, max_length=len(HORIZONS), json_schema_extra={
        "items": {"type": "integer", "enum": list(HORIZONS)}, "uniqueItems": True})] = list(HORIZONS)
    include_options_greeks: bool = False
    include_attention: bool = False  # the forward pass's attention and selection weights in the result
    risk_adjustment: bool = True
    confidence_intervals: Annotated[list[float], Field(min_length=1, max_length=5, json_schema_extra={
        "items": {"type": "number", "exclusiveMinimum": 0, "exclusiveMaximum": 1}})] = [0.68, 0.95]

    @model_validator(mode="after")
    def _check(self) -> "ForecastOptions":
        check_horizons(self.forecast_horizons)
        bad = [c for c in self.confidence_intervals if not 0.0 < c < 1.0]
        if bad:
            raise ValueError(f"confidence_intervals must lie strictly between 0 and 1, got {bad}")
        return self


class ForecastRequest(ForecastOptions):
    request_id: Name | None = None
    symbol: Symbol
    batch_id: Name | None = None  # set on the members of a batch, and echoed in their results


BatchId = Annotated[str, Field(min_length=1, max_length=96, pattern=r"^[^\x00-\x1f\x7f]+$")]
MAX_BATCH_SYMBOLS = 256


class BatchRequest(ForecastOptions):
    """Many symbols at once, on HTTP (/forecast/batch) or forecast.requests: one result per
    symbol, each with the batch's id and its own request id `<batch_id>:<symbol>`."""

    batch_id: BatchId | None = None
    symbols: Annotated[list[Symbol], Field(min_length=1, max_length=MAX_BATCH_SYMBOLS,
                                           json_schema_extra={"uniqueItems": True})]

    @model_validator(mode="after")
    def _unique(self) -> "BatchRequest":
        if len(set(self.symbols)) != len(self.symbols):
            raise ValueError("symbols has duplicates")
        return self

    def members(self, batch_id: str) -> list[ForecastRequest]:
        options = self.model_dump(exclude={"batch_id", "symbols"})
        return [ForecastRequest(**options, symbol=s, batch_id=batch_id, request_id=f"{batch_id}:{s}")
                for s in self.symbols]


class RetrainCommand(Event):
    """`model.commands` (and the body of POST /model/retrain): train a candidate, gate it
    against the active model, promote it if it passes."""

    command: Literal["retrain"] = "retrain"
    job_id: Name | None = None  # the message's coordinates when absent
    retrain_type: Literal["incremental", "full"] = "incremental"
    priority: Literal["normal", "high"] = "normal"
    # The gate scores the candidate on these (default GATE_SYMBOLS); training reads the panel.
    symbols: Annotated[list[Symbol], Field(max_length=MAX_BATCH_SYMBOLS)] = []
    reason: Name = "asked"
