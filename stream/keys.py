"""Where a symbol lives: the partition murmur2 of its name picks, as Kafka's Java client
and aiokafka choose it. Clients that hash otherwise (librdkafka's CRC32: kcat,
confluent-kafka) or send no key are served too: their events are forwarded to the
symbol's partition of a by-symbol topic first."""
from aiokafka.partitioner import murmur2

from schemas import SchemaError


def home_partition(symbol: str, partitions: int) -> int:
    return (murmur2(symbol.encode()) & 0x7FFFFFFF) % partitions


def check_size(value: bytes | None, limit: int) -> None:
    if value is not None and len(value) > limit:
        raise SchemaError(f"value of {len(value)} bytes is over the {limit}-byte limit")


def check_key(key: bytes | None, symbol: str, exact: bool = False) -> None:
    """A key, when there is one, must name the event's symbol: exactly for a bar (it
    decides which window the bar joins), in any case for a request."""
    if key is None:
        return
    named = key.decode("utf-8", "replace")
    if (named if exact else named.upper()) != symbol:
        raise SchemaError(f"message key {key!r} is not the symbol {symbol!r}")
