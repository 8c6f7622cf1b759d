"""The worker: the app with every agent, timer and view installed on one runtime."""
from stream import delivery, readiness, regimes, runtime, status, timers, triggers, validation, views
from stream.agents import forecast, history, models, options, sink, ticks
from stream.app import app, settings
from stream.runtime import Runtime

PARTS = (runtime, delivery, readiness, regimes, timers, triggers, validation, status, views, forecast, history,
         models, options, sink, ticks)


def build() -> Runtime:
    """The runtime of a worker of this app, every part installed; nothing opens until it runs."""
    rt = Runtime(settings, app)
    for part in PARTS:
        part.install(rt)
    return rt
