"""HTTP API on the worker's web server (port 8007): the Kafka flow, over HTTP, one
module per resource. The contract is `schemas/openapi.py`, served at /openapi.json (the
Kafka topics' is `stream/asyncapi.py`, at /asyncapi.json).
Every refusal carries `{"error": {"code", "message"}}`."""
from stream.views import forecast, market, model, ops


def install(rt) -> None:
    for routes in (forecast, market, model, ops):
        routes.install(rt)
