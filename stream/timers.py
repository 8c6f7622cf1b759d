"""Periodic work: flush the metrics sink, publish consumer lag."""
from stream import metrics
from stream.app import app, settings
from stream.runtime import current_runtime


@app.timer(interval=settings.persistence.sink_flush_interval_s)
async def flush_metrics_sink():
    runtime = current_runtime()
    if runtime is not None:
        await runtime.flush()


@app.timer(interval=settings.stream.lag_interval_s)
async def publish_consumer_lag():
    consumer = app.consumer
    for tp in consumer.assignment():
        # either is None until the partition's first fetch: no figure is better than a wrong one
        position, highwater = await consumer.position(tp), consumer.highwater(tp)
        if position is not None and highwater is not None:
            lag = max(0, highwater - position)
            metrics.consumer_lag.labels(topic=tp.topic, partition=str(tp.partition)).set(lag)
