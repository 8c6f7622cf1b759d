"""The worker's shared resources: opened as it starts, closed as it stops."""
from stream.app import app, settings
from stream.resources import Resources

resources = Resources(settings)


@app.task
async def open_resources() -> None:
    await resources.open()


@app.on_before_shutdown.connect
async def close_on_shutdown(app, **kwargs) -> None:
    await resources.close()
