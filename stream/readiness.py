"""When a worker may say it is ready: its model and connections are open, its tables
recovered, and the bars that waited in market.ticks when it joined are in its windows.

The last is judged by the group's committed offsets against the end offsets seen at
the first check, so a backlog of seeded bars holds readiness back, while bars that
keep arriving afterwards do not. Once ready, a worker stays ready.
"""
from aiokafka.admin import AIOKafkaAdminClient

from stream.app import app, settings
from stream.lifecycle import resources
from stream.topics import BY_SYMBOL, MARKET_TICKS, full_name

_TICKS = {full_name(MARKET_TICKS), full_name(MARKET_TICKS + BY_SYMBOL)}


class Readiness:
    def __init__(self):
        self.ready = False
        self._targets: dict | None = None
        self._admin: AIOKafkaAdminClient | None = None

    async def pending(self) -> list[str]:
        """What still holds readiness back; empty once ready."""
        if self.ready:
            return []
        waiting = []
        if not resources.is_open:
            waiting.append("model and connections")
        assigned = [tp for tp in app.consumer.assignment() if tp.topic in _TICKS]
        if not app.consumer.assignment():
            waiting.append("partition assignment")
        elif not app.tables.recovery.completed.is_set():
            waiting.append("table recovery")
        elif assigned:
            if self._targets is None:
                self._targets = dict(await app.consumer.highwaters(*assigned))
            committed = await self._committed()
            behind = sum(max(0, end - (committed.get(tp) or 0)) for tp, end in self._targets.items())
            if behind:
                waiting.append(f"{behind} bars that were waiting at start")
        self.ready = not waiting
        if self.ready and self._admin is not None:
            await self._admin.close()
            self._admin = None
        return waiting

    async def _committed(self) -> dict:
        if self._admin is None:
            self._admin = AIOKafkaAdminClient(bootstrap_servers=settings.stream.bootstrap_servers)
            await self._admin.start()
        offsets = await self._admin.list_consumer_group_offsets(settings.stream.app_id)
        return {tp: meta.offset for tp, meta in offsets.items()}


readiness = Readiness()
