class SchemaError(ValueError):
    """An event or body that does not match its schema; the message says why."""
