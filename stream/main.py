"""The worker: the app with every topic, table, agent, timer and view registered."""
from stream import lifecycle, status, timers, triggers, validation, views  # noqa: F401  (registration by import)
from stream.agents import forecast, history, models, options, sink, ticks  # noqa: F401
from stream.app import app

__all__ = ["app"]
