"""Bytes <-> schema objects. Decoding is strict: a wrong type is an error, not a guess."""
from typing import TypeVar

import orjson
from pydantic import BaseModel, ValidationError

from schemas.errors import SchemaError

M = TypeVar("M", bound=BaseModel)


def decode(model: type[M], raw: bytes | str | None) -> M:
    if raw is None or raw in (b"", ""):
        raise SchemaError("empty message")
    try:
        return model.model_validate_json(raw)
    except ValidationError as e:
        raise SchemaError(_describe(e)) from None


def encode(obj: BaseModel) -> bytes:
    return orjson.dumps(obj.model_dump(mode="json", exclude_none=True))


def _describe(error: ValidationError) -> str:
    parts = []
    for item in error.errors(include_url=False):
        if item["type"] == "json_invalid":
            return f"malformed JSON: {item['msg']}"
        where = ".".join(str(p) for p in item["loc"]) or "body"
        parts.append(f"{where}: {item['msg']}")
    return "; ".join(parts)
