"""When a worker may say it is ready: its model and connections are open, its tables
recovered, the bars that waited in market.ticks when it joined are in its windows, and
the regime events those bars made have been read by the agent that keeps their changes.

Backlogs are judged by the group's committed offsets against the end offsets seen when
the wait for them began, so a backlog of seeded bars holds readiness back, while bars
that keep arriving afterwards do not. The regime events come last: a seed's one event
per bar, still being read at ready, held the first request over Kafka back by 2-4 s.
Once ready, a worker stays ready.

The request agents do not wait for it: an agent that holds its stream lets Faust's
fetch buffers fill and stalls the bars it waits for (seen at a cold start under a
burst). After a restart the windows come back from the changelog before any request
is read; only a request sent before a cold start's seeded bars are in can find a
short window, and is told so (`insufficient_history`).
"""
import asyncio
import logging

from aiokafka import AIOKafkaConsumer
from aiokafka.admin import AIOKafkaAdminClient

from stream.config import EXACTLY_ONCE
from stream.topics import BY_SYMBOL, MARKET_TICKS, REGIME_EVENTS, full_name

log = logging.getLogger(__name__)
_TICKS = {full_name(MARKET_TICKS), full_name(MARKET_TICKS + BY_SYMBOL)}
_EVENTS = {full_name(REGIME_EVENTS)}
CHECK_EVERY_S = 0.2


class Readiness:
    def __init__(self, rt):
        self.rt = rt
        self.event = asyncio.Event()
        self.waiting: list[str] = ["start"]
        self._targets: dict[str, dict] = {}  # backlog -> the end offsets when its wait began

    @property
    def ready(self) -> bool:
        return self.event.is_set()

    async def check(self, admin: AIOKafkaAdminClient, ends: AIOKafkaConsumer) -> list[str]:
        """What still holds readiness back."""
        waiting, app = [], self.rt.app
        if not self.rt.is_open:
            waiting.append("model and connections")
        assigned = [tp for tp in app.consumer.assignment() if tp.topic in _TICKS]
        if not app.consumer.assignment():
            waiting.append("partition assignment")
        elif not app.tables.recovery.completed.is_set():
            waiting.append("table recovery")
        elif assigned:
            if behind := await self._behind(admin, ends, "bars", assigned):
                waiting.append(f"{behind} bars that were waiting at start")
            elif events := [tp for tp in app.consumer.assignment() if tp.topic in _EVENTS]:
                if behind := await self._behind(admin, ends, "regime events", events):
                    waiting.append(f"{behind} regime events of those bars")
        return waiting

    async def _behind(self, admin: AIOKafkaAdminClient, ends: AIOKafkaConsumer, backlog: str,
                      partitions: list) -> int:
        """Messages of `partitions` not yet committed, of those there when the wait began."""
        if backlog not in self._targets:
            self._targets[backlog] = dict(await ends.end_offsets(partitions))
        offsets = await admin.list_consumer_group_offsets(self.rt.settings.stream.app_id)
        committed = {tp: meta.offset for tp, meta in offsets.items()}
        return sum(max(0, end - (committed.get(tp) or 0)) for tp, end in self._targets[backlog].items())


    async def wait(self) -> None:
        """Checks until nothing holds readiness back, then says so for good."""
        settings = self.rt.settings
        admin = AIOKafkaAdminClient(**settings.kafka_client())
        # End offsets straight from the broker: asked through the app's consumer, each
        # waited 1.5 s for the fetch before it in the consumer's thread.
        committed = settings.stream.processing_guarantee == EXACTLY_ONCE
        ends = AIOKafkaConsumer(**settings.kafka_client(), enable_auto_commit=False,
                                isolation_level="read_committed" if committed else "read_uncommitted")
        await admin.start()
        await ends.start()
        try:
            while self.waiting:
                self.waiting = await self.check(admin, ends)
                if self.waiting:
                    await asyncio.sleep(CHECK_EVERY_S)
        finally:
            await ends.stop()
            await admin.close()
        self.event.set()
        log.info("ready: model loaded, tables recovered, seeded bars ingested and their regime events read")


def install(rt) -> None:
    @rt.app.task
    async def become_ready() -> None:
        await rt.readiness.wait()
