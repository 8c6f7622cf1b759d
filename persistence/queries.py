"""Named SQL from persistence/queries/*.sql, read once. A query starts at `-- name: x`."""
import re
from functools import cache
from pathlib import Path

_FOLDER = Path(__file__).with_name("queries")
_NAME = re.compile(r"^-- name: (\w+)\s*$", re.M)


@cache
def queries(table: str) -> dict[str, str]:
    parts = _NAME.split((_FOLDER / f"{table}.sql").read_text())
    return {name: sql.strip() for name, sql in zip(parts[1::2], parts[2::2])}
