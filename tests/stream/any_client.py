"""Bars and requests from a librdkafka client at its defaults (CRC32 of the key), and with
no key at all: they must reach their symbol's window as murmur2-keyed ones do."""
import uuid
import zlib

import orjson
from confluent_kafka import Producer

from features.data import load, select
from schemas import encode
from stream.keys import home_partition
from stream.publish import bars_from_panel
from tests.workers import Kafka, Worker, ingested, results_for, wait_for_bars

KEYED, KEYLESS = "MSFT", "XOM"  # CRC32 and murmur2 put each on a different partition of 4


def produce(bootstrap: str, topic: str, items: list[tuple[bytes | None, bytes]]) -> None:
    producer = Producer({"bootstrap.servers": bootstrap})  # librdkafka's defaults
    for key, value in items:
        producer.produce(topic, value=value, key=key)
    assert producer.flush(30) == 0


async def check_any_client_is_served(workers: list[Worker], data_dir) -> None:
    assert zlib.crc32(KEYED.encode()) % 4 != home_partition(KEYED, 4)
    w = workers[0]
    bars = bars_from_panel(select(load(data_dir).all_bars(), [KEYED, KEYLESS], end="2023-12-29")
                           .groupby("symbol", group_keys=False).tail(400))
    before = await ingested(workers)
    produce(w.bootstrap, w.topic("market.ticks"),
            [(b.symbol.encode() if b.symbol == KEYED else None, encode(b)) for b in bars])
    await wait_for_bars(workers, before + len(bars))
    requests = [{"request_id": f"any-{uuid.uuid4().hex[:8]}", "symbol": s, "forecast_horizons": [1, 5]}
                for s in (KEYED, KEYLESS, "SPY") for _ in range(3)]
    produce(w.bootstrap, w.topic("forecast.requests"),
            [(r["symbol"].encode() if i % 2 == 0 else None, orjson.dumps(r)) for i, r in enumerate(requests)])
    kafka = Kafka(w.bootstrap)
    await kafka.start()
    try:
        values = await kafka.collect(w.topic("forecast.results"), results_for(*(r["request_id"] for r in requests)))
    finally:
        await kafka.stop()
    by_id = {v["request_id"]: v for v in values}
    for r in requests:
        got = by_id[r["request_id"]]
        assert got["status"] == "ok" and got["as_of"] == "2023-12-29" and got["symbol"] == r["symbol"], got
