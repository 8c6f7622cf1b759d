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
from schemas import Bar, BarSeries, ChainQuote, OptionChain, SchemaError, decode_ticks, encode
from schemas.events import MAX_SERIES_BARS, Columns


def bars_from_panel(panel: pd.DataFrame) -> list[Bar]:
    """Panel rows as bars in time order, symbols interleaved as a live feed has them."""
    rows = panel.sort_values(["date", "symbol"], kind="stable")
    return [Bar(symbol=s, ts=d.date(), open=o, high=h, low=lo, close=c, volume=float(v))
            for d, s, o, h, lo, c, v in rows[["date", "symbol", "open", "high", "low", "close",
                                               "volume"]].itertuples(index=False)]


def series_from_panel(panel: pd.DataFrame) -> list[BarSeries]:
    """Panel rows as a backfill: each symbol's bars in series of up to MAX_SERIES_BARS,
    the context series first, so that each equity's regime finds VIX's window whole.

    Sent bar by bar, a seed cost a worker one message, one stored window (24 KB at 512
    bars, to the changelog as well) and one regime event per bar: 6 MB of changelog per
    symbol, and under 700 bars/s at 550 symbols. As series, each of those is once per series.
    """
    rows = panel.assign(_later=~panel["symbol"].map(is_context)).sort_values(["_later", "symbol", "date"],
                                                                              kind="stable")
    series = []
    for _, one in rows.groupby(["_later", "symbol"], sort=False):
        for at in range(0, len(one), MAX_SERIES_BARS):
            chunk = one.iloc[at:at + MAX_SERIES_BARS]
            series.append(BarSeries(symbol=chunk["symbol"].iat[0], bars=Columns(
                ts=[d.date() for d in chunk["date"]],
                **{c: chunk[c].astype(float).tolist() for c in ("open", "high", "low", "close", "volume")})))
    return series


async def publish_bars(client: dict, topic: str, bars: list[Bar] | list[BarSeries], rate: float,
                       progress: bool = True) -> int:
    """Send `bars` (or series) keyed by symbol; `rate` messages per second, 0 for as fast
    as the broker takes. `client`: aiokafka's connection arguments (`Settings.kafka_client`)."""
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
                        item = decode_ticks(m.value)
                    except SchemaError:
                        continue  # refused to the DLQ when it came
                    rows += [(pd.Timestamp(b.day), b.symbol, b.open, b.high, b.low, b.close, b.volume)
                             for b in item.each() if keep(b)]
    finally:
        await consumer.stop()
    df = pd.DataFrame(rows, columns=["date", "symbol", "open", "high", "low", "close", "volume"])
    return df.drop_duplicates(["symbol", "date"], keep="last")[COLUMNS]


def valid_bars(client: dict, topic: str, quality: QualityConfig) -> pd.DataFrame:
    """`bars_on` of the bars that pass the checks a bar passes to join a window today: what
    a retrain adds to the data folder. Runs its own event loop, in a retrain's process."""
    today = datetime.now(UTC).date()
    return asyncio.run(bars_on(client, topic, lambda bar: not bar_problems(bar, quality, today)))
