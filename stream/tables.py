"""Tables, on RocksDB and backed by changelog topics. Co-partitioned with the input
topics (same key, same partition count), so a request finds its symbol's window locally."""
from stream.app import app, settings

symbol_to_bars = app.Table(
    "symbol_to_bars",
    partitions=settings.stream.partitions,
    key_type=bytes,
    value_type=bytes,  # a BarWindow, see features/window.py
)
