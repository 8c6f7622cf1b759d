"""Where a symbol lives: the partition murmur2 of its name picks, as Kafka's Java client
and aiokafka choose it. Clients that hash otherwise (librdkafka's CRC32: kcat,
confluent-kafka) or send no key are served too: their events are forwarded to the
symbol's partition of a by-symbol topic first."""
from aiokafka.partitioner import murmur2

from schemas import SchemaError


def home_partition(symbol: str, partitions: int) -> int:
    return (murmur2(symbol.encode()) & 0x7FFFFFFF) % partitions


def check_key(key: bytes | None, symbol: str) -> None:
    """A key, when there is one, must name the event's symbol."""
    if key is not None and key.decode("utf-8", "replace").upper() != symbol:
        raise SchemaError(f"message key {key!r} is not the symbol {symbol!r}")
