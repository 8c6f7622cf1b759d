"""Worker shutdown: the last buffered results reach PostgreSQL before the process exits."""
from stream.app import app
from stream.runtime import close_runtime


@app.on_before_shutdown.connect
async def close_on_shutdown(app, **kwargs) -> None:
    await close_runtime()
