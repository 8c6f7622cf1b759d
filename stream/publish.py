"""Publishing real bars and option chains from the command line; reading bars back."""
import asyncio
import time
from collections.abc import Callable
from datetime import UTC, datetime

import pandas as pd
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from tqdm import tqdm

from features.chains import QUOTES, ChainDay
from features.cross_asset import is_context
from features.data import COLUMNS
from features.quality import QualityConfig, bar_problems
from schemas import Bar, ChainQuote, OptionChain, SchemaError, decode, encode


def bars_from_panel(panel: pd.DataFrame, backfill: bool = False) -> list[Bar]:
    """Panel rows as bars in time order, symbols interleaved as a live feed has them; or,
    for a `backfill`, a series at a time, the context series first.

    Interleaved, a worker's batch of a thousand bars holds a bar or two of each symbol,
    and stores each symbol's whole window (24 KB at 512 bars) to its changelog once per
    bar: 6 MB per symbol for a seed. A series at a time, it stores a window once per run
    of its bars in a batch, and each equity's regime finds VIX's window already whole.
    """
    if backfill:
        rows = panel.assign(_later=~panel["symbol"].map(is_context)).sort_values(
            ["_later", "symbol", "date"], kind="stable")
    else:
        rows = panel.sort_values(["date", "symbol"], kind="stable")
    return [Bar(symbol=s, ts=d.date(), open=o, high=h, low=lo, close=c, volume=float(v))
            for d, s, o, h, lo, c, v in rows[["date", "symbol", "open", "high", "low", "close",
                                               "volume"]].itertuples(index=False)]


async def publish_bars(client: dict, topic: str, bars: list[Bar], rate: float,
                       progress: bool = True) -> int:
    """Send `bars` keyed by symbol; `rate` bars per second, 0 for as fast as the broker
    takes. `client`: aiokafka's connection arguments (`Settings.kafka_client`)."""
    producer = AIOKafkaProducer(**client, acks="all", linger_ms=20)
    await producer.start()
    try:
        started = time.perf_counter()
        futures = []
        for i, bar in enumerate(tqdm(bars, unit="bar", disable=not progress, desc=topic)):
            futures.append(await producer.send(topic, encode(bar), key=bar.symbol.encode()))
            if rate > 0:
                ahead = (i + 1) / rate - (time.perf_counter() - started)
                if ahead > 0:
                    await asyncio.sleep(ahead)
        await asyncio.gather(*futures)
        return len(futures)
    finally:
        await producer.stop()


def chain_event(day: ChainDay) -> OptionChain:
    quotes = [ChainQuote(expiry=e, strike=float(k), right=r, bid=float(b), ask=float(a))
              for e, k, r, b, a in day.quotes[QUOTES].itertuples(index=False)]
    return OptionChain(symbol=day.symbol, as_of=day.as_of, spot=day.spot, quotes=quotes)


async def publish_chains(client: dict, topic: str, chains: list[OptionChain]) -> int:
    """Send each chain keyed by its symbol, in order (a symbol's surface only moves forward)."""
    producer = AIOKafkaProducer(**client, acks="all", max_request_size=1 << 20)
    await producer.start()
    try:
        for chain in chains:
            await producer.send_and_wait(topic, encode(chain), key=chain.symbol.encode())
        return len(chains)
    finally:
        await producer.stop()


async def bars_on(client: dict, topic: str, keep: Callable[[Bar], bool] = lambda bar: True) -> pd.DataFrame:
    """Every valid bar on `topic` up to its end now that `keep` keeps, as panel rows
    (features.data.COLUMNS); a later bar for the same symbol and day wins, as in the windows."""
    consumer = AIOKafkaConsumer(**client, enable_auto_commit=False)
    await consumer.start()
    rows = []
    try:
        await consumer.topics()  # metadata, for partitions_for_topic
        partitions = [TopicPartition(topic, p) for p in consumer.partitions_for_topic(topic) or ()]
        if not partitions:
            return pd.DataFrame(columns=COLUMNS)
        consumer.assign(partitions)
        await consumer.seek_to_beginning(*partitions)
        ends = await consumer.end_offsets(partitions)
        while any(await consumer.position(tp) < ends[tp] for tp in partitions):
            for messages in (await consumer.getmany(timeout_ms=1000)).values():
                for m in messages:
                    try:
                        b = decode(Bar, m.value)
                    except SchemaError:
                        continue  # refused to the DLQ when it came
                    if not keep(b):
                        continue
                    rows.append((pd.Timestamp(b.day), b.symbol, b.open, b.high, b.low, b.close, b.volume))
    finally:
        await consumer.stop()
    df = pd.DataFrame(rows, columns=["date", "symbol", "open", "high", "low", "close", "volume"])
    return df.drop_duplicates(["symbol", "date"], keep="last")[COLUMNS]


def valid_bars(client: dict, topic: str, quality: QualityConfig) -> pd.DataFrame:
    """`bars_on` of the bars that pass the checks a bar passes to join a window today: what
    a retrain adds to the data folder. Runs its own event loop, in a retrain's process."""
    today = datetime.now(UTC).date()
    return asyncio.run(bars_on(client, topic, lambda bar: not bar_problems(bar, quality, today)))
