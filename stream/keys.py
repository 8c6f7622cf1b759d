from schemas import SchemaError


def check_key(key: bytes | None, symbol: str) -> None:
    """The key decides the partition, and with it where the symbol's window lives."""
    if key is not None and key.decode("utf-8", "replace").upper() != symbol:
        raise SchemaError(f"message key {key!r} is not the symbol {symbol!r}")
