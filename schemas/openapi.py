"""The OpenAPI 3.1 document of the HTTP API, generated from the schemas it serves.

Pydantic writes JSON Schema 2020-12, which is OpenAPI 3.1's own dialect, so the body
schemas go in as they are; only the operations are written here.
"""
from collections.abc import Collection, Iterable

from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from schemas.events import HORIZONS, BatchRequest, ForecastRequest, RetrainCommand
from schemas.http import (API_KEY_HEADER, BATCH_EXAMPLE, REQUEST_EXAMPLE, RESULT_EXAMPLE, ErrorBody, FeatureImportance, Health,
                          Job, JobAccepted, Liveness, ModelStatus, Promotion, PromoteCommand, Readiness, Rollback,
                          RollbackCommand, TierChange, TierSet, USER_ID)
from schemas.portfolio import PORTFOLIO_EXAMPLE, PortfolioRequest, PortfolioResult
from schemas.results import BatchResult, ForecastResult, RegimeState, SurfaceInfo

_MODELS = (ForecastRequest, ForecastResult, BatchRequest, BatchResult, PortfolioRequest, PortfolioResult, ErrorBody, Liveness, Readiness, Health, FeatureImportance,
           ModelStatus, TierChange, TierSet, PromoteCommand, Promotion, RollbackCommand, Rollback,
           RetrainCommand, JobAccepted, Job, RegimeState, SurfaceInfo)
_INPUTS = (ForecastRequest, BatchRequest, PortfolioRequest, TierChange, PromoteCommand, RollbackCommand, RetrainCommand)
_RETRY_AFTER = {"Retry-After": {"description": "seconds until a request would be admitted",
                                "schema": {"type": "string"}}}


def _ref(model: type[BaseModel]) -> dict:
    return {"$ref": f"#/components/schemas/{model.__name__}"}


def _json(description: str, *models: type[BaseModel], example: dict | None = None,
          headers: dict | None = None) -> dict:
    schema = _ref(models[0]) if len(models) == 1 else {"anyOf": [_ref(m) for m in models]}
    content = {"schema": schema} | ({"example": example} if example else {})
    return {"description": description, "content": {"application/json": content}} | (
        {"headers": headers} if headers else {})


def _refusals(*, keyed: bool) -> dict:
    out = {"413": _json("the body is larger than TFT_MAX_BODY_BYTES", ErrorBody),
           "422": _json("an invalid body or parameter, with the reason", ErrorBody, ForecastResult)}
    if keyed:
        out |= {"401": _json("API keys are configured and none, or an unknown one, was given", ErrorBody),
                "403": _json("the key's role may not call this", ErrorBody)}
    return out


def component_schemas(models: Iterable[type[BaseModel]], inputs: Collection[type[BaseModel]]) -> dict:
    """The JSON schemas of `models` and of the models they hold, by name, referring to each
    other under #/components/schemas/ (where OpenAPI 3.1 and AsyncAPI 3.0 both keep them):
    an input's as it is validated, any other's as the service writes it."""
    _, defs = models_json_schema([(m, "validation" if m in inputs else "serialization") for m in models],
                                 ref_template="#/components/schemas/{model}")
    return defs["$defs"]


def document(version: str) -> dict:
    keyed = [{"apiKey": []}, {}]  # a key is needed only where keys are configured
    return {
        "openapi": "3.1.0",
        "info": {"title": "tft-forecast", "version": version,
                 "description": "Multi-horizon price forecasts from a Temporal Fusion Transformer. "
                                "The same requests and results travel on Kafka (README)."},
        "components": {
            "schemas": component_schemas(_MODELS, _INPUTS),
            "securitySchemes": {"apiKey": {"type": "apiKey", "in": "header", "name": API_KEY_HEADER}},
        },
        "paths": {
            "/forecast/generate": {"post": {
                "operationId": "generateForecast",
                "summary": "Forecast one symbol at every asked horizon",
                "security": keyed,
                "requestBody": {"required": True, "content": {"application/json": {
                    "schema": _ref(ForecastRequest), "example": REQUEST_EXAMPLE}}},
                "responses": {
                    "200": _json("the forecast", ForecastResult, example=RESULT_EXAMPLE),
                    "404": _json("unknown_symbol: no bars are held for the symbol", ForecastResult),
                    "429": _json("rate_limited, with retry_after_s", ForecastResult, headers=_RETRY_AFTER),
                    "503": _json("the worker is starting, or the model failed on this request",
                                 ErrorBody, ForecastResult, headers=_RETRY_AFTER),
                    **_refusals(keyed=True),
                },
            }},
            "/forecast/batch": {"post": {
                "operationId": "generateBatch",
                "summary": "Forecast many symbols at once; each symbol that cannot be served is an error entry",
                "security": keyed,
                "requestBody": {"required": True, "content": {"application/json": {
                    "schema": _ref(BatchRequest), "example": BATCH_EXAMPLE}}},
                "responses": {
                    "200": _json("one result per symbol, in order, each with the batch id", BatchResult),
                    "503": _json("the worker is starting", ErrorBody, headers=_RETRY_AFTER),
                    **_refusals(keyed=True),
                },
            }},
            "/forecast/portfolio": {"post": {
                "operationId": "generatePortfolio",
                "summary": "A book's return quantiles, VaR, expected shortfall and Euler contributions by horizon",
                "security": keyed,
                "requestBody": {"required": True, "content": {"application/json": {
                    "schema": _ref(PortfolioRequest), "example": PORTFOLIO_EXAMPLE}}},
                "responses": {
                    "200": _json("the book's forecast, its members' own beside it", PortfolioResult),
                    "404": _json("unknown_symbol: a member has no bars; the message names it", PortfolioResult),
                    "429": _json("rate_limited: a member was over its user's tier", PortfolioResult,
                                 headers=_RETRY_AFTER),
                    "503": _json("the worker is starting", ErrorBody, PortfolioResult, headers=_RETRY_AFTER),
                    **_refusals(keyed=True),
                },
            }},
            "/market/regime/{symbol}": {"get": {
                "operationId": "marketRegime",
                "summary": "A symbol's regime as of its last bar, since when, and the one before",
                "security": keyed,
                "parameters": [{"name": "symbol", "in": "path", "required": True, "schema": {"type": "string"}}],
                "responses": {
                    "200": _json("the regime state", RegimeState),
                    "404": _json("no regime for the symbol (yet)", ErrorBody),
                    **_refusals(keyed=True),
                },
            }},
            "/market/options/{symbol}": {"get": {
                "operationId": "optionSurface",
                "summary": "A symbol's latest option surface: SVI per expiry and its arbitrage check",
                "security": keyed,
                "parameters": [{"name": "symbol", "in": "path", "required": True, "schema": {"type": "string"}}],
                "responses": {
                    "200": _json("the fitted surface", SurfaceInfo),
                    "404": _json("no chain of the symbol has been fitted", ErrorBody),
                    **_refusals(keyed=True),
                },
            }},
            "/features/{symbol}/importance": {"get": {
                "operationId": "featureImportance",
                "summary": "The served model's variable importance for a symbol ('*': the whole panel)",
                "security": keyed,
                "parameters": [
                    {"name": "symbol", "in": "path", "required": True, "schema": {"type": "string"}},
                    {"name": "horizon", "in": "query", "required": False,
                     "schema": {"type": "integer", "enum": list(HORIZONS), "default": 5}},
                ],
                "responses": {
                    "200": _json("importance by feature, largest first", FeatureImportance),
                    "404": _json("none stored for this symbol and model", ErrorBody),
                    **_refusals(keyed=True),
                },
            }},
            "/users/{user_id}/tier": {"put": {
                "operationId": "setUserTier",
                "summary": "Set the rate-limit tier a user is counted under (operator role; audited)",
                "security": keyed,
                "parameters": [{"name": "user_id", "in": "path", "required": True,
                                "schema": USER_ID.json_schema()}],
                "requestBody": {"required": True, "content": {"application/json": {
                    "schema": _ref(TierChange), "example": {"tier": "pro"}}}},
                "responses": {
                    "200": _json("the tier now in force", TierSet),
                    "503": _json("Redis, which holds the tiers, is away", ErrorBody, headers=_RETRY_AFTER),
                    **_refusals(keyed=True),
                },
            }},
            "/model/promote": {"post": {
                "operationId": "promoteModel",
                "summary": "Make a registered version active if the validation gate passes (operator; audited)",
                "security": keyed,
                "requestBody": {"required": True, "content": {"application/json": {
                    "schema": _ref(PromoteCommand), "example": {"version": "tft-2024-06-28-1a2b3c4",
                                                                "reason": "weekly retrain"}}}},
                "responses": {
                    "200": _json("promoted: every worker serves it within TFT_MODEL_CHECK_S", Promotion),
                    "404": _json("no such version in the registry", ErrorBody),
                    "409": _json("refused by the gate, with its figures", Promotion),
                    **_refusals(keyed=True),
                },
            }},
            "/model/retrain": {"post": {
                "operationId": "retrainModel",
                "summary": "Queue a retraining job: train, gate, promote if it passes (operator; audited)",
                "security": keyed,
                "requestBody": {"required": True, "content": {"application/json": {
                    "schema": _ref(RetrainCommand), "example": {"symbols": ["SPY", "QQQ"],
                                                                "retrain_type": "incremental",
                                                                "priority": "normal"}}}},
                "responses": {"202": _json("queued; its steps go to model.events", JobAccepted),
                              **_refusals(keyed=True)},
            }},
            "/model/jobs/{job_id}": {"get": {
                "operationId": "modelJob", "summary": "A retraining job's state", "security": keyed,
                "parameters": [{"name": "job_id", "in": "path", "required": True, "schema": {"type": "string"}}],
                "responses": {"200": _json("the job", Job), "404": _json("no such job", ErrorBody),
                              **_refusals(keyed=True)},
            }},
            "/model/rollback": {"post": {
                "operationId": "rollbackModel",
                "summary": "Make the version the active one replaced active again (operator; audited)",
                "security": keyed,
                "requestBody": {"required": True, "content": {"application/json": {
                    "schema": _ref(RollbackCommand), "example": {"reason": "live pinball worse"}}}},
                "responses": {
                    "200": _json("rolled back", Rollback),
                    "409": _json("nothing to roll back to", ErrorBody),
                    **_refusals(keyed=True),
                },
            }},
            "/live": {"get": {"operationId": "live", "summary": "Liveness: the event loop answers",
                              "responses": {"200": _json("alive", Liveness)}}},
            "/ready": {"get": {"operationId": "ready", "summary": "Readiness to serve",
                               "responses": {"200": _json("ready", Readiness),
                                             "503": _json("what it waits for", Readiness)}}},
            "/health": {"get": {"operationId": "health", "summary": "Readiness and each dependency",
                                "responses": {"200": _json("serving, degraded or not", Health),
                                              "503": _json("starting", Health)}}},
            "/model/status": {"get": {
                "operationId": "modelStatus", "summary": "The model being served, and its live accuracy",
                "security": keyed,
                "parameters": [{"name": "accuracy_by", "in": "query", "required": False,
                                "schema": {"type": "string", "enum": ["all", "symbol", "regime"], "default": "all"}}],
                "responses": {"200": _json("the served model", ModelStatus), **_refusals(keyed=True)}}},
            "/metrics": {"get": {"operationId": "metrics", "summary": "Prometheus exposition",
                                 "responses": {"200": {"description": "metrics",
                                                       "content": {"text/plain": {"schema": {"type": "string"}}}}}}},
            "/openapi.json": {"get": {"operationId": "openapi", "summary": "This document",
                                      "responses": {"200": {"description": "OpenAPI 3.1",
                                                            "content": {"application/json": {
                                                                "schema": {"type": "object"}}}}}}},
            "/asyncapi.json": {"get": {"operationId": "asyncapi",
                                       "summary": "The AsyncAPI 3.0 document of the Kafka topics",
                                       "responses": {"200": {"description": "AsyncAPI 3.0 (stream/asyncapi.py)",
                                                             "content": {"application/json": {
                                                                 "schema": {"type": "object"}}}}}}},
        },
    }
