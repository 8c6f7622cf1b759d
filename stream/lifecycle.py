"""The worker's shared resources: opened as it starts, closed as it stops."""
import logging

from stream.app import app, settings
from stream.resources import Resources

log = logging.getLogger(__name__)
resources = Resources(settings)


@app.task
async def open_resources() -> None:
    await resources.open()


@app.timer(interval=settings.inference.model_check_s)
async def follow_active_model() -> None:
    if not resources.is_open:
        return
    try:
        await resources.follow_registry()
    except Exception as e:  # noqa: BLE001 - the served model stays; said in the log each time
        log.error("cannot switch to the registry's active model: %s: %s", type(e).__name__, e)


@app.on_before_shutdown.connect
async def close_on_shutdown(app, **kwargs) -> None:
    await resources.close()
