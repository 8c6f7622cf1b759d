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
    Bar,
    BarSeries,
    BatchRequest,
    ChainQuote,
    ForecastRequest,
    OptionChain,
    RetrainCommand,
    decode_ticks,
)
from schemas.portfolio import PortfolioRequest, PortfolioResult
from schemas.results import (
    AttentionWeights,
    BatchResult,
    DeadLetter,
    ErrorInfo,
    ForecastResult,
    HorizonForecast,
    ImpliedForecast,
    ModelEvent,
    OptionGreeks,
    OptionQuote,
    OptionsInfo,
    RegimeEvent,
    RegimeInfo,
    RegimeState,
    RiskEvent,
    RiskInfo,
    RiskRule,
    ServedForecast,
    SmileInfo,
    StraddleGreeks,
    SurfaceInfo,
)

__all__ = [
    "HORIZONS", "QUANTILE_KEYS", "QUANTILES", "SCHEMA_VERSION", "AttentionWeights", "Bar", "BarSeries", "BatchRequest", "BatchResult", "ChainQuote", "DeadLetter", "ErrorInfo", "ForecastRequest",
    "ForecastResult", "HorizonForecast", "ImpliedForecast", "ModelEvent", "OptionChain", "OptionGreeks", "OptionQuote", "OptionsInfo", "PortfolioRequest", "PortfolioResult", "RegimeEvent", "RegimeInfo", "RegimeState", "RetrainCommand",
    "RiskEvent", "RiskInfo", "RiskRule", "SchemaError", "ServedForecast", "SmileInfo", "StraddleGreeks", "SurfaceInfo", "decode", "decode_ticks", "encode",
]
