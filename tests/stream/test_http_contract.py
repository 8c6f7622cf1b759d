"""The HTTP API against its published OpenAPI document, fuzzed by schemathesis.

The document the running worker serves is the one `schemas/openapi.py` generates, and
every answer to generated input, valid or not, must keep to it: no 5xx, a documented
status, a body of the documented schema, and a message on every refusal.
"""
import re

import httpx
import orjson
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (content_type_conformance, negative_data_rejection,
                                               response_schema_conformance, status_code_conformance)

from schemas.http import REQUEST_EXAMPLE
from schemas.openapi import document
from tests.helpers import documentation

pytestmark = pytest.mark.integration


@schemathesis.check
def refusals_carry_a_message(ctx, response, case):
    if 400 <= response.status_code < 500:
        error = orjson.loads(response.content).get("error") or {}
        if not (isinstance(error.get("message"), str) and error["message"].strip()):
            raise AssertionError(f"{response.status_code} without error.message: {response.content[:200]!r}")
    return True


# A valid call of these trains a model (30 s and more each): test_lifecycle makes them.
STARTS_WORK = {"POST /model/retrain"}
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance,
          negative_data_rejection, refusals_carry_a_message]


def takes_input(operation) -> bool:
    """Whether any input of it can be invalid: a body, or a parameter more constrained
    than "any string" (a path's job id is any string)."""
    raw = operation.definition.raw
    return bool(raw.get("requestBody")) or any(p["schema"] != {"type": "string"} for p in raw.get("parameters", []))


def fuzz(schema, mode: GenerationMode, max_examples: int) -> dict[str, int]:
    """Cases tried per operation; the first failing check raises, with its case shrunk.
    Invalid input exists only for operations that take some."""
    tried: dict[str, int] = {}
    for result in schema.get_all_operations():
        operation = result.ok()
        if mode is GenerationMode.NEGATIVE and not takes_input(operation):
            continue
        if mode is GenerationMode.POSITIVE and operation.label in STARTS_WORK:
            continue

        @given(case=operation.as_strategy(generation_mode=mode))
        @settings(max_examples=max_examples, deadline=None, database=None, derandomize=True,
                  suppress_health_check=list(HealthCheck))
        def run(case):
            tried[operation.label] = tried.get(operation.label, 0) + 1
            case.call_and_validate(checks=CHECKS)

        run()
    return tried


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE], ids=lambda m: m.value)
async def test_every_answer_keeps_to_the_published_document(worker, mode):
    schema = schemathesis.openapi.from_url(worker.url + "/openapi.json")
    tried = fuzz(schema, mode, max_examples=60)
    print(f"{mode.value}: {sum(tried.values())} cases over {len(tried)} operations: {tried}")
    operations = [r.ok() for r in schema.get_all_operations()]
    assert len(tried) == sum(1 for op in operations if (takes_input(op) if mode is GenerationMode.NEGATIVE
                                                         else op.label not in STARTS_WORK))


async def test_the_served_document_is_the_generated_one_with_the_documented_example(worker):
    async with httpx.AsyncClient() as client:
        served = (await client.get(worker.url + "/openapi.json")).json()
        version = (await client.get(worker.url + "/model/status")).json()["model_version"]
    assert served == document(version)
    example = served["paths"]["/forecast/generate"]["post"]["requestBody"]["content"]["application/json"]["example"]
    row = next(line for line in documentation().splitlines() if line.startswith("| `forecast.requests`"))
    assert orjson.loads(re.search(r"`(\{.*?\})`", row).group(1)) == example == REQUEST_EXAMPLE


async def test_a_body_over_the_limit_is_refused_with_413_unread(worker):
    body = orjson.dumps({**REQUEST_EXAMPLE, "user_id": "x" * 70_000})
    async with httpx.AsyncClient() as client:
        r = await client.post(worker.url + "/forecast/generate", content=body)
    assert r.status_code == 413, r.text
    assert "TFT_MAX_BODY_BYTES" in r.json()["error"]["message"]
