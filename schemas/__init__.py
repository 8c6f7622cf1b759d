"""Every event and HTTP body as a typed, versioned schema, encoded with orjson.

This package imports nothing of the project: it is the contract between the
service and the systems that talk to it.
"""
from schemas.codec import decode, encode
from schemas.errors import SchemaError
from schemas.events import (
    HORIZONS,
    QUANTILE_KEYS,
    QUANTILES,
    SCHEMA_VERSION,
    AttentionWeights,
    Bar,
    BatchRequest,
    BatchResult,
    DeadLetter,
    ErrorInfo,
    ForecastRequest,
    ForecastResult,
    HorizonForecast,
    ModelEvent,
    OptionGreeks,
    OptionQuote,
    RegimeEvent,
    RegimeInfo,
    RegimeState,
    RetrainCommand,
    RiskEvent,
    RiskInfo,
    RiskRule,
    ServedForecast,
)

__all__ = [
    "HORIZONS", "QUANTILE_KEYS", "QUANTILES", "SCHEMA_VERSION", "AttentionWeights", "Bar", "BatchRequest", "BatchResult", "DeadLetter", "ErrorInfo", "ForecastRequest",
    "ForecastResult", "HorizonForecast", "ModelEvent", "OptionGreeks", "OptionQuote", "RegimeEvent", "RegimeInfo", "RegimeState", "RetrainCommand",
    "RiskEvent", "RiskInfo", "RiskRule", "SchemaError", "ServedForecast", "decode", "encode",
]
