"""The AsyncAPI document of the Kafka topics (stream/asyncapi.py): the committed copy is
the generated one, it names every topic the worker declares, its examples keep to their
schemas, the official CLI accepts it, and what a live worker writes keeps to it."""
import json
import os
import subprocess
import uuid
from pathlib import Path

import httpx
import orjson
import pytest
from jsonschema import Draft7Validator

import schemas
from stream.asyncapi import document, dumps
from tests.workers import results_for

ROOT = Path(__file__).resolve().parents[2]
COMMITTED = ROOT / "docs" / "asyncapi.json"
# Installed by `npm ci --prefix tools/asyncapi` (tools/asyncapi/package.json pins it).
CLI = ROOT / "tools" / "asyncapi" / "node_modules" / ".bin" / "asyncapi"
DOC = document()


def messages(doc: dict) -> list[tuple[str, dict]]:
    return [(f"{channel['address']}/{name}", m) for channel in doc["channels"].values()
            for name, m in channel["messages"].items()]


def payload_validator(doc: dict, address: str, name: str | None = None) -> Draft7Validator:
    """The schema of a message on `address` (its only one unless named), its references
    resolved in the document's components. Draft 7: AsyncAPI 3.0's default dialect."""
    (channel,) = [c for c in doc["channels"].values() if c["address"] == address]
    message = channel["messages"][name] if name else next(iter(channel["messages"].values()))
    schema = {"allOf": [message["payload"]], "components": doc["components"]}
    return Draft7Validator(schema, format_checker=Draft7Validator.FORMAT_CHECKER)


def test_the_committed_document_is_the_generated_one():
    assert COMMITTED.read_text() == dumps(DOC), "regenerate it: python -m stream.asyncapi > docs/asyncapi.json"


def test_every_topic_the_worker_declares_is_a_channel_of_its_name_without_the_prefix():
    from stream import topics  # builds the Faust app, which connects to nothing until it starts
    prefix = topics.full_name("")
    declared = sorted(name.removeprefix(prefix) for name in topics.all_names())
    dead_letters = {t.get_topic_name().removeprefix(prefix) for t in topics.dead_letters.values()}
    addresses = sorted(c["address"] for c in DOC["channels"].values())
    assert addresses == declared and dead_letters <= set(addresses) and "forecast.requests.dlq" in addresses


def test_every_channel_says_who_sends_who_receives_the_key_and_the_delivery():
    for channel_id, channel in DOC["channels"].items():
        operations = [op for op in DOC["operations"].values() if op["channel"]["$ref"] == f"#/channels/{channel_id}"]
        assert operations and all(op["action"] in ("send", "receive") and op["description"] for op in operations)
        assert channel["x-delivery"] in " ".join(op["description"] for op in operations)
        assert all(m["bindings"]["kafka"]["key"]["description"] for m in channel["messages"].values())
    requests = [c for c in DOC["channels"].values() if c["address"] == "forecast.requests"][0]
    assert sorted(m["name"] for m in requests["messages"].values()) == ["BatchRequest", "ForecastRequest",
                                                                        "PortfolioRequest"]
    results = [c for c in DOC["channels"].values() if c["address"] == "forecast.results"][0]
    assert sorted(m["name"] for m in results["messages"].values()) == ["ForecastResult", "PortfolioResult"]


def test_every_example_keeps_to_its_schema_and_its_model():
    checked = 0
    for where, message in messages(DOC):
        validator = payload_validator(DOC, *where.split("/"))
        assert message["examples"], f"{where} has no example"
        for example in message["examples"]:
            errors = [e.message for e in validator.iter_errors(example["payload"])]
            assert not errors, f"{where}: {errors}"
            schemas.decode(getattr(schemas, message["name"]), orjson.dumps(example["payload"]))
            checked += 1
        key = message["bindings"]["kafka"]["key"]
        for example in key.get("examples", []):
            Draft7Validator(key).validate(example)
    assert checked == len(messages(DOC)) > len(DOC["channels"])  # forecast.requests has three


def test_a_result_without_its_request_id_is_refused_by_its_schema():
    validator = payload_validator(DOC, "forecast.results")
    (example,) = [m for _, m in messages(DOC) if m["name"] == "ForecastResult"][0]["examples"]
    assert validator.is_valid(example["payload"])
    errors = list(validator.iter_errors({k: v for k, v in example["payload"].items() if k != "request_id"}))
    assert [e.message for e in errors] == ["'request_id' is a required property"]


def validate_with_the_cli(path: Path, tmp_path: Path) -> subprocess.CompletedProcess:
    if not CLI.exists():
        pytest.fail(f"{CLI} is missing: run `npm ci --prefix tools/asyncapi`")
    # The CLI's own switch (`asyncapi config analytics --disable`) writes this file; given
    # here, its telemetry stays off and nothing is written to the home folder. No update
    # check either: nothing leaves the machine.
    analytics = tmp_path / "asyncapi-analytics.json"
    analytics.write_text('{"analyticsEnabled": "false", "infoMessageShown": "true", "userID": "tests"}')
    env = {**os.environ, "ASYNCAPI_METRICS_CONFIG_PATH": str(analytics), "ASYNCAPI_SKIP_NEW_VERSION_CHECK": "true"}
    return subprocess.run([str(CLI), "validate", str(path), "--fail-severity", "warn"], env=env,
                          capture_output=True, text=True, timeout=180)


def test_the_official_cli_accepts_the_document_and_refuses_a_broken_one(tmp_path):
    done = validate_with_the_cli(COMMITTED, tmp_path)
    assert done.returncode == 0 and "is valid" in done.stdout, done.stdout + done.stderr
    broken = json.loads(COMMITTED.read_text())
    broken["operations"]["sendForecastResults"]["action"] = "publish"  # AsyncAPI 2's word
    (tmp_path / "broken.json").write_text(json.dumps(broken))
    refused = validate_with_the_cli(tmp_path / "broken.json", tmp_path)
    assert refused.returncode != 0 and "sendForecastResults.action" in refused.stdout, refused.stdout


@pytest.mark.integration
async def test_what_a_worker_serves_and_writes_keeps_to_the_committed_document(worker, kafka):
    doc = json.loads(COMMITTED.read_text())
    async with httpx.AsyncClient() as client:
        assert (await client.get(worker.url + "/asyncapi.json")).json() == doc
    request = {"request_id": f"asyncapi-{uuid.uuid4().hex[:12]}", "symbol": "SPY", "forecast_horizons": [1, 5],
               "include_options_greeks": True, "include_attention": True}
    refused = orjson.dumps({"request_id": f"asyncapi-bad-{uuid.uuid4().hex[:12]}", "symbol": "SPY",
                            "forecast_horizons": [7]})
    await kafka.send(worker.topic("forecast.requests"), orjson.dumps(request), b"SPY")
    await kafka.send(worker.topic("forecast.requests"), refused, b"SPY")

    results = await kafka.collect(worker.topic("forecast.results"), results_for(request["request_id"]))
    result = next(r for r in results if r["request_id"] == request["request_id"])
    assert result["status"] == "ok" and result["attention_weights"], result
    payload_validator(doc, "forecast.results").validate(result)

    def mine(letters):
        return [letter for letter in letters if letter["value"] == refused.decode()]
    letter = mine(await kafka.collect(worker.topic("forecast.requests.dlq"), mine))[0]
    payload_validator(doc, "forecast.requests.dlq").validate(letter)

    def served(records):
        return [r for r in records if r["result"]["request_id"] == request["request_id"]]
    record = served(await kafka.collect(worker.topic("forecast.ledger"), served))[0]
    payload_validator(doc, "forecast.ledger").validate(record)

    regimes = await kafka.collect(worker.topic("regime.events"), lambda events: len(events) > 0)
    validator = payload_validator(doc, "regime.events")
    for event in regimes:
        validator.validate(event)
