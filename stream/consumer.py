"""Faust's Kafka consumer, for exactly-once delivery (stream/delivery.py): it reads
`read_committed`, and leaves the offsets of the request topics to the transactions that
commit them with their outputs.

Faust's own commit of those offsets would race the transactions': a commit of an older
offset landing after a transaction's newer one moves the group back, and a crash then
answers requests twice. In at-least-once mode both changes are off and this is Faust's
consumer as it comes.
"""
import faust
from faust.transport.drivers import aiokafka as driver


class _ConsumerThread(driver.AIOKafkaConsumerThread):
    def _create_worker_consumer(self, transport):
        consumer = super()._create_worker_consumer(transport)
        if self.app.transactional_topics:
            # Forwarded requests are written in transactions too: none may be served
            # before its transaction commits, nor at all if it aborts.
            consumer._isolation_level = "read_committed"  # read by aiokafka when it starts
        return consumer

    async def _commit(self, offsets) -> bool:
        skip = self.app.transactional_topics
        mine = {tp: o for tp, o in offsets.items() if tp.topic not in skip}
        return await super()._commit(mine) if mine else True


class _Consumer(driver.Consumer):
    def _new_consumer_thread(self):
        return _ConsumerThread(self, loop=self.loop, beacon=self.beacon)


class _Transport(driver.Transport):
    Consumer = _Consumer


class App(faust.App):
    """faust.App whose consumer leaves `transactional_topics` to the transactions (none
    unless the worker delivers exactly once)."""

    transactional_topics: frozenset[str] = frozenset()

    def _new_transport(self):
        return _Transport(self.conf.broker_consumer, self)
