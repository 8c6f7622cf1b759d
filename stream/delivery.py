"""How the request agents' outputs reach Kafka: at least once, or exactly once.

At least once (the default), outputs go through Faust's producer, which it flushes
before committing the offsets of what was read; a crash replays what came after the
last commit, and Redis receipts make a replayed answer the same bytes (README,
"Delivery").

Exactly once (`TFT_PROCESSING_GUARANTEE=exactly_once`), every output of a request
(its result, its ledger record, its risk events, a dead letter, a forward to its home
partition) is written in a Kafka transaction together with the offset past the request,
so that a `read_committed` subscriber sees each answer once, however a worker dies.
There is one transactional producer per partition of the request topics, named after
the partition (`<app id>-<topic>-<partition>`): the worker that takes the partition over
starts a producer of the same name, which aborts the dead one's open transaction and
fences it out. That is Kafka's own protocol for consume-transform-produce (KIP-98, the
"exactly_once" of Kafka Streams before v2), built on aiokafka here because Faust's own
mode files an output under the transaction of the partition it is *written to*, not of
the request it answers, so an offset and its outputs can commit apart (faust-streaming
#517, #177); the README's "Delivery" section goes through each bug.
"""
import asyncio
import logging
from collections.abc import Iterable

import faust
from aiokafka import AIOKafkaProducer, TopicPartition
from aiokafka.errors import KafkaError, ProducerFenced
from faust.types import EventT, TopicT

from stream import metrics
from stream.config import EXACTLY_ONCE

log = logging.getLogger(__name__)
RETRIES, RETRY_S = 5, 2.0  # a failed transaction is tried again this often, this far apart
RETRY_BACKOFF_MS = 5


class Transactions:
    """A transactional producer per request partition this worker holds, the
    transaction open on each while a batch is served, and a copy of what was sent in
    it, to send again if the transaction has to be tried again."""

    def __init__(self, client: dict, group_id: str, linger_ms: int):
        self.client, self.group_id, self.linger_ms = client, group_id, linger_ms
        self.producers: dict[TopicPartition, AIOKafkaProducer] = {}
        self.sent: dict[TopicPartition, list[tuple[str, bytes | None, bytes]]] = {}
        # Partitions whose open transaction a rebalance cut mid-batch: the rest of that
        # batch is neither sent nor committed, and whoever owns the partition next reads
        # it again from the offset committed last.
        self.cut: set[TopicPartition] = set()

    async def _producer(self, tp: TopicPartition) -> AIOKafkaProducer:
        p = self.producers.get(tp)
        if p is None:
            # A transaction begun just after the last one's commit is refused while the
            # broker still writes its markers, and tried again after retry_backoff_ms
            # (aiokafka's default, 100 ms, put most of it on every request's latency).
            p = AIOKafkaProducer(**self.client, transactional_id=f"{self.group_id}-{tp.topic}-{tp.partition}",
                                 linger_ms=self.linger_ms, retry_backoff_ms=RETRY_BACKOFF_MS)
            await p.start()  # fences the partition's previous owner, aborting its open transaction
            self.producers[tp] = p
        return p

    async def _begun(self, tp: TopicPartition) -> AIOKafkaProducer:
        p = await self._producer(tp)
        if tp not in self.sent:
            await p.begin_transaction()
            self.sent[tp] = []
        return p

    async def send(self, tp: TopicPartition, topic: str, key: bytes | None, value: bytes):
        if tp in self.cut:
            return None
        p = await self._begun(tp)
        self.sent[tp].append((topic, key, value))
        return await p.send(topic, value, key=key)

    async def commit(self, events: Iterable[EventT]) -> None:
        """Commits, per partition, what was sent for `events` with the offset past the last
        of them. A transaction that fails is tried again on a new producer, its outputs
        sent again, up to RETRIES times; a partition fenced meanwhile is another
        worker's now, which serves its requests again."""
        last: dict[TopicPartition, int] = {}
        for e in events:
            tp = TopicPartition(e.message.topic, e.message.partition)
            last[tp] = max(last.get(tp, -1), e.message.offset)
        await asyncio.gather(*(self._commit_one(tp, offset) for tp, offset in last.items()))

    async def _commit_one(self, tp: TopicPartition, offset: int) -> None:
        for attempt in range(RETRIES + 1):
            if tp in self.cut:  # before this attempt, or while the last one was awaited
                self.cut.discard(tp)
                return
            try:
                if attempt:
                    for topic, key, value in self.sent.pop(tp, []):
                        await self.send(tp, topic, key, value)
                p = await self._begun(tp)
                await p.send_offsets_to_transaction({tp: offset + 1}, self.group_id)
                await p.commit_transaction()
                del self.sent[tp]
                return
            except ProducerFenced:
                log.warning("%s[%d] moved to another worker, which serves its requests again", tp.topic, tp.partition)
                self.sent.pop(tp, None)
                await self.drop([tp])
                return
            except KafkaError as e:
                metrics.transactions_failed_total.inc()
                log.error("transaction of %s[%d] failed (%s: %s), attempt %d of %d", tp.topic, tp.partition,
                          type(e).__name__, e, attempt + 1, RETRIES + 1)
                await self.drop([tp], keep_sent=True)
                if attempt == RETRIES:
                    raise
                await asyncio.sleep(RETRY_S)

    async def drop(self, tps: Iterable[TopicPartition], keep_sent: bool = False) -> None:
        """Stops the producers of partitions that left this worker (or failed); an open
        transaction of theirs is aborted by the broker when the next producer of the same
        name starts."""
        for tp in tps:
            if not keep_sent and self.sent.pop(tp, None) is not None:
                self.cut.add(tp)
            if (p := self.producers.pop(tp, None)) is not None:
                try:
                    await p.stop()
                except KafkaError as e:
                    log.warning("stopping the producer of %s[%d]: %s", tp.topic, tp.partition, e)

    async def take(self, tps: Iterable[TopicPartition]) -> None:
        """Producers for partitions just assigned, started at once: each start aborts the
        transaction the partition's previous owner left open, which until then holds
        back every read_committed subscriber of the partitions it wrote to."""
        tps = list(tps)
        await self.drop(tps)  # one kept from an earlier assignment may be fenced by now
        await asyncio.gather(*(self._producer(tp) for tp in tps))

    async def close(self) -> None:
        await self.drop(list(self.producers))


class Delivery:
    """Where an agent sends an output, naming the event it answers (None for an HTTP
    request: answered in the response, its records sent at least once), and where it
    says that a batch of events is done."""

    def __init__(self, guarantee: str, transactional_topics: frozenset[str], client: dict, group_id: str,
                 linger_ms: int):
        self.topics = transactional_topics
        self.transactions = Transactions(client, group_id, linger_ms) if guarantee == EXACTLY_ONCE else None

    async def send(self, topic: TopicT, key: bytes | None, value: bytes,
                   event: EventT | None = None):
        if self.transactions is None or event is None or event.message.topic not in self.topics:
            return await topic.send(key=key, value=value)
        tp = TopicPartition(event.message.topic, event.message.partition)
        return await self.transactions.send(tp, topic.get_topic_name(), key, value)

    async def done(self, app: faust.App, events: list[EventT]) -> None:
        """Under exactly once, commits the batch's transactions. One that still fails after
        its retries stops the worker: its requests were read past, and only a restart
        reads them again from the offset committed last."""
        if self.transactions is None:
            return
        try:
            await self.transactions.commit(e for e in events if e.message.topic in self.topics)
        except KafkaError as e:
            log.critical("a transaction failed %d times; the worker stops to read its requests again", RETRIES + 1)
            await app.crash(e)


def install(rt) -> None:
    transactions = rt.delivery.transactions
    if transactions is None:
        return

    def mine(tps) -> list[TopicPartition]:
        return [TopicPartition(tp.topic, tp.partition) for tp in tps if tp.topic in rt.delivery.topics]

    @rt.app.on_partitions_revoked.connect
    async def drop_producers(app, revoked, **kwargs) -> None:
        await transactions.drop(mine(revoked))

    @rt.app.on_partitions_assigned.connect
    async def start_producers(app, assigned, **kwargs) -> None:
        await transactions.take(mine(assigned))

    @rt.app.on_before_shutdown.connect
    async def close_producers(app, **kwargs) -> None:
        await transactions.close()
