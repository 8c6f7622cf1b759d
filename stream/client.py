"""A client of the service over Kafka, for trading code: forecasts and batches answered as
typed results, and the service's events. aiokafka alone: importing it loads no Faust
and no model.

    async with ForecastClient("broker:9092", security=AccessConfig(...)) as client:
        result = await client.forecast("SPY", horizons=[1, 5])

One consumer reads forecast.results for the whole client, from where it stood when the
client started, and hands each result to the request that waits for its id. A request
not answered within `timeout_s` is sent again with the same id, `retries` times: the
service answers an id it has answered before from its receipt (inference/serving.py),
so a retry costs no second forecast and gets the same result.
"""
import asyncio
import uuid
from collections.abc import AsyncIterator, Sequence

import orjson
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from pydantic import BaseModel

from schemas import (HORIZONS, BatchRequest, BatchResult, DeadLetter, ErrorInfo, ForecastRequest, ForecastResult,
                     ModelEvent, RegimeEvent, RiskEvent, SchemaError, decode, encode)
from schemas.portfolio import PortfolioRequest, PortfolioResult
from stream.access import AccessConfig, kafka_client_auth
from stream.names import FORECAST_REQUESTS, FORECAST_RESULTS, MODEL_EVENTS, REGIME_EVENTS, RISK_EVENTS

EVENTS: dict[str, type[BaseModel]] = {FORECAST_RESULTS: ForecastResult, REGIME_EVENTS: RegimeEvent,
                                      RISK_EVENTS: RiskEvent, MODEL_EVENTS: ModelEvent}


def result_of(raw: bytes) -> ForecastResult | PortfolioResult:
    """A forecast.results message as its schema: a book's answer says `"kind": "portfolio"`
    (the service writes compact JSON)."""
    return decode(PortfolioResult if b'"kind":"portfolio"' in raw else ForecastResult, raw)


def named(request):
    """The request with an id of its own, if it has none."""
    if request.request_id is None:
        return request.model_copy(update={"request_id": uuid.uuid4().hex})
    return request


class ForecastRefused(Exception):
    """The service answered with `status: error`: `error.code` says why (unknown_symbol,
    insufficient_history, rate_limited with `retry_after_s`, bad_data, internal_error)."""

    def __init__(self, result: ForecastResult | PortfolioResult):
        self.result, self.error = result, result.error or ErrorInfo(code="unknown", message="no error given")
        what = getattr(result, "symbol", "book")
        super().__init__(f"{what} ({result.request_id}): {self.error.code}: {self.error.message}")


class ForecastTimeout(TimeoutError):
    def __init__(self, request_ids: list[str], attempts: int, timeout_s: float):
        self.request_ids = request_ids
        what = request_ids[0] if len(request_ids) == 1 else f"{len(request_ids)} requests"
        super().__init__(f"no result for {what} within {timeout_s:g} s, sent {attempts} time(s) with the same id")


class ForecastClient:
    def __init__(self, bootstrap_servers: str, topic_prefix: str = "", security: AccessConfig = AccessConfig(),
                 timeout_s: float = 30.0, retries: int = 2, linger_ms: int = 5):
        self.timeout_s, self.retries, self.prefix, self.linger_ms = timeout_s, retries, topic_prefix, linger_ms
        self._kafka = {"bootstrap_servers": bootstrap_servers, **kafka_client_auth(security)}
        self._waiting: dict[str, asyncio.Future] = {}
        # Requests join the producer's batches one at a time: when a batch is full, each
        # waiting sender would otherwise wake, and most wait again, every time one drains
        # (at 4,000 requests at once, 2 ms of CPU per request instead of 0.4).
        self._sending = asyncio.Lock()
        self._reader: asyncio.Task | None = None

    async def __aenter__(self) -> "ForecastClient":
        await self.start()
        return self

    async def __aexit__(self, *exc) -> None:
        await self.stop()

    async def start(self) -> None:
        # aiokafka's clients belong to the loop they are made in: made here, not in __init__.
        self._producer = AIOKafkaProducer(**self._kafka, acks="all", linger_ms=self.linger_ms)
        # read_committed: what an exactly-once worker's subscriber must read; the same as
        # read_uncommitted from an at-least-once worker, which writes no transactions.
        self._results = AIOKafkaConsumer(**self._kafka, enable_auto_commit=False, isolation_level="read_committed")
        try:
            await self._producer.start()
            await self._results.start()
            topic = self.prefix + FORECAST_RESULTS
            self._results.assign([TopicPartition(topic, p) for p in await self._producer.partitions_for(topic)])
            # Fix the position before any request is sent: no result can come before it.
            await self._results.seek_to_end()
            for tp in self._results.assignment():
                await self._results.position(tp)
        except BaseException:  # no broker, say: close what did start
            await self._close()
            raise
        self._reader = asyncio.create_task(self._read_results())

    async def stop(self) -> None:
        if self._reader is not None:
            self._reader.cancel()
            await self._close()

    async def _close(self) -> None:
        await self._producer.stop()
        await self._results.stop()

    async def forecast(self, symbol: str, horizons: Sequence[int] = HORIZONS,
                       request_id: str | None = None) -> ForecastResult:
        """`ask` with the request's other fields at their defaults."""
        return await self.ask(ForecastRequest(symbol=symbol, forecast_horizons=list(horizons), request_id=request_id))

    async def ask(self, request: ForecastRequest) -> ForecastResult:
        """The result of `request` (given an id if it has none); ForecastRefused for a
        refusal, ForecastTimeout if none came."""
        request = named(request)
        return await self._answer(request, request.symbol.encode())

    async def batch(self, request: BatchRequest | Sequence[str]) -> BatchResult:
        """One message for many symbols (a BatchRequest, or just the symbols): a result per
        symbol, in order, refusals among them as entries with `status: error`."""
        if not isinstance(request, BatchRequest):
            request = BatchRequest(symbols=list(request))
        batch_id = request.batch_id or uuid.uuid4().hex
        ids = [m.request_id for m in request.members(batch_id)]
        request = request.model_copy(update={"batch_id": batch_id})
        return BatchResult(batch_id=batch_id, results=await self._exchange(ids, batch_id.encode(), encode(request)))

    async def portfolio(self, request: PortfolioRequest) -> PortfolioResult:
        """A book's answer (given an id if it has none); ForecastRefused when a member could
        not be forecast, ForecastTimeout if none came."""
        request = named(request)
        return await self._answer(request, request.request_id.encode())

    async def _answer(self, request, key: bytes):
        """One request's result; ForecastRefused for a refusal."""
        (result,) = await self._exchange([request.request_id], key, encode(request))
        if result.status == "error":
            raise ForecastRefused(result)
        return result

    async def subscribe(self, name: str) -> AsyncIterator[BaseModel | dict]:
        """The events of topic `name` (unprefixed: "regime.events") from now on, as their
        schema where one is known (EVENTS, and DeadLetter on a .dlq), else as JSON."""
        schema = DeadLetter if name.endswith(".dlq") else EVENTS.get(name)
        consumer = AIOKafkaConsumer(self.prefix + name, **self._kafka, enable_auto_commit=False,
                                    auto_offset_reset="latest", isolation_level="read_committed")
        await consumer.start()
        try:
            async for m in consumer:
                if name == FORECAST_RESULTS:
                    yield result_of(m.value)
                else:
                    yield orjson.loads(m.value) if schema is None else decode(schema, m.value)
        finally:
            await consumer.stop()

    async def _exchange(self, ids: list[str], key: bytes, value: bytes) -> list[ForecastResult]:
        """Send `value` until every id in `ids` has its result, or the retries are spent."""
        if self._reader is None:
            raise RuntimeError("the client is not started: use `async with ForecastClient(...)`")
        if self._reader.done():  # stopped, or the broker failed it: no result could reach us
            raise RuntimeError("the client no longer reads results") from (
                None if self._reader.cancelled() else self._reader.exception())
        results: dict[str, ForecastResult] = {}
        for _ in range(1 + self.retries):
            # A future per attempt: the timeout cancels the one awaited, which a shared one would not survive.
            futures = self._expect([i for i in ids if i not in results])
            try:
                async with asyncio.timeout(self.timeout_s):
                    async with self._sending:
                        delivered = await self._producer.send(self.prefix + FORECAST_REQUESTS, value, key=key)
                    await delivered
                    for i, future in futures.items():
                        results[i] = await future
                return [results[i] for i in ids]
            except TimeoutError:
                results |= {i: f.result() for i, f in futures.items() if f.done() and not f.cancelled()}
            finally:
                for i in futures:
                    del self._waiting[i]
        raise ForecastTimeout(ids, 1 + self.retries, self.timeout_s)

    def _expect(self, ids: list[str]) -> dict[str, asyncio.Future]:
        if busy := [i for i in ids if i in self._waiting]:
            raise ValueError(f"request id {busy[0]} is already awaited by this client")
        loop = asyncio.get_running_loop()
        futures = {i: loop.create_future() for i in ids}
        self._waiting |= futures
        return futures

    async def _read_results(self) -> None:
        while True:
            for messages in (await self._results.getmany(timeout_ms=1000)).values():
                for m in messages:
                    self._deliver(m.value)

    def _deliver(self, raw: bytes) -> None:
        """Hands a result to the request waiting for its id; other clients' results, and
        results already delivered (a retry's twin), are skipped unparsed past their id."""
        try:
            value = orjson.loads(raw)
        except orjson.JSONDecodeError:
            return
        future = self._waiting.get(value.get("request_id")) if isinstance(value, dict) else None
        if future is None or future.done():
            return
        try:
            future.set_result(result_of(raw))
        except SchemaError as e:
            future.set_exception(e)
