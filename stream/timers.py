"""Periodic work: publish consumer lag."""
from stream import metrics
from stream.app import app, settings


@app.timer(interval=settings.stream.lag_interval_s)
async def publish_consumer_lag():
    consumer = app.consumer
    for tp in consumer.assignment():
        # either is None until the partition's first fetch: no figure is better than a wrong one
        position, highwater = await consumer.position(tp), consumer.highwater(tp)
        if position is not None and highwater is not None:
            lag = max(0, highwater - position)
            metrics.consumer_lag.labels(topic=tp.topic, partition=str(tp.partition)).set(lag)
