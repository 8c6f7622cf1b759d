"""What the model's lifecycle and the research commands read from the environment: the
model, its training and gate, serving, persistence, regimes, bar checks and the data
folder. The Kafka side adds its own in `stream/settings.py`; names are in the README."""
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

from features.quality import QualityConfig
from inference.config import InferenceConfig
from inference.triggers import TriggerConfig, parse_daily, parse_weekly
from persistence.config import PersistenceConfig
from regime.hmm import RegimeConfig
from tft.config import RUNTIMES, GateConfig, RetrainConfig, TFTConfig


class SettingsError(ValueError):
    pass


@dataclass(frozen=True)
class LifecycleSettings:
    inference: InferenceConfig
    persistence: PersistenceConfig
    tft: TFTConfig
    quality: QualityConfig
    gate: GateConfig
    retrain: RetrainConfig
    triggers: TriggerConfig
    regime: RegimeConfig
    data_dir: Path  # MARKET_DATA_DIR: what retrains and the gate read besides the live bars


Get = Callable[..., object]


def reader(env: Mapping[str, str]) -> Get:
    """get(NAME, default, cast=str): the variable cast, the default when unset or empty,
    a SettingsError that names the variable when it does not cast."""
    def get(name, default, cast=str):
        raw = env.get(name)
        if raw is None or raw == "":
            return default
        try:
            return cast(raw)
        except ValueError as e:
            raise SettingsError(f"{name}={raw!r} is not a valid {cast.__name__.strip('_')}: {e}") from None
    return get


def flag(text: str) -> bool:
    return text.lower() in ("1", "true")


def _rate_limits(text: str) -> dict[str, int]:
    try:
        return {tier.strip(): int(n) for tier, n in (item.split(":") for item in text.split(","))}
    except ValueError:
        raise SettingsError(f"RATE_LIMITS must look like 'free:60,pro:600', got {text!r}") from None


def _runtime(text: str) -> str:
    if text not in RUNTIMES:
        raise ValueError(f"one of {', '.join(RUNTIMES)}")
    return text


def _risk_rules(text: str) -> tuple[str, ...]:
    from inference.risk import RULES
    if text.strip().lower() == "none":
        return ()
    names = tuple(n.strip() for n in text.split(",") if n.strip())
    if unknown := sorted(set(names) - set(RULES)):
        raise SettingsError(f"RISK_RULES names unknown rules {unknown}; the rules are {sorted(RULES)}")
    return names


def load_lifecycle_settings(env: Mapping[str, str] = os.environ) -> LifecycleSettings:
    get = reader(env)
    i, p, t, q = InferenceConfig(), PersistenceConfig(), TFTConfig(), QualityConfig()
    inference = InferenceConfig(
        model=get("TFT_MODEL", i.model),
        max_batch=get("TFT_MAX_BATCH", i.max_batch, int),
        max_wait_ms=get("TFT_MAX_WAIT_MS", i.max_wait_ms, float),
        device=get("TFT_DEVICE", i.device),
        runtime=get("TFT_RUNTIME", i.runtime, _runtime),
        cuda_graphs=get("TFT_CUDA_GRAPHS", i.cuda_graphs, flag),
        default_artifact=get("TFT_DEFAULT_ARTIFACT", i.default_artifact, Path),
        risk_rules=get("RISK_RULES", i.risk_rules, _risk_rules),
        adaptive_intervals=get("ADAPTIVE_INTERVALS", i.adaptive_intervals, flag),
        adaptive_gamma=get("ADAPTIVE_GAMMA", i.adaptive_gamma, float),
        model_store=get("TFT_MODEL_STORE", i.model_store, Path),
        model_check_s=get("TFT_MODEL_CHECK_S", i.model_check_s, float),
        model_cache_size=get("MODEL_CACHE_SIZE", i.model_cache_size, int),
    )
    persistence = PersistenceConfig(
        database_url=get("DATABASE_URL", p.database_url),
        redis_host=get("REDIS_HOST", p.redis_host),
        redis_port=get("REDIS_PORT", p.redis_port, int),
        redis_db=get("REDIS_DB", p.redis_db, int),
        cache_ttl_s=get("FORECAST_CACHE_TTL_S", p.cache_ttl_s, int),
        receipt_ttl_s=get("RECEIPT_TTL_S", p.receipt_ttl_s, int),
        redis_timeout_s=get("REDIS_TIMEOUT_S", p.redis_timeout_s, float),
        redis_retry_s=get("REDIS_RETRY_S", p.redis_retry_s, float),
        rate_limits=get("RATE_LIMITS", p.rate_limits, _rate_limits),
        default_tier=get("RATE_LIMIT_DEFAULT_TIER", p.default_tier),
        validate_every_s=get("VALIDATE_EVERY_S", p.validate_every_s, float),
        accuracy_every_s=get("VALIDATE_ACCURACY_EVERY_S", p.accuracy_every_s, float),
    )
    tft = TFTConfig(
        hidden_size=get("TFT_HIDDEN_SIZE", t.hidden_size, int),
        num_heads=get("TFT_NUM_HEADS", t.num_heads, int),
        num_layers=get("TFT_NUM_LAYERS", t.num_layers, int),
        encoder_length=get("MAX_SEQUENCE_LENGTH", t.encoder_length, int),
        dropout=get("TFT_DROPOUT", t.dropout, float),
    )
    quality = QualityConfig(
        max_price=get("BAR_MAX_PRICE", q.max_price, float),
        max_volume=get("BAR_MAX_VOLUME", q.max_volume, float),
        future_days=get("BAR_FUTURE_DAYS", q.future_days, int),
        max_jump=get("BAR_MAX_JUMP", q.max_jump, float),
    )
    g = GateConfig()
    gate = GateConfig(sessions=get("GATE_SESSIONS", g.sessions, int),
                      pinball_tolerance=get("GATE_PINBALL_TOLERANCE", g.pinball_tolerance, float),
                      coverage_tolerance=get("GATE_COVERAGE_TOLERANCE", g.coverage_tolerance, float),
                      symbols=get("GATE_SYMBOLS", g.symbols, lambda v: tuple(x.strip() for x in v.split(","))))
    r = RetrainConfig()
    retrain = RetrainConfig(full_epochs=get("RETRAIN_FULL_EPOCHS", r.full_epochs, int),
                            incremental_epochs=get("RETRAIN_INCREMENTAL_EPOCHS", r.incremental_epochs, int),
                            incremental_years=get("RETRAIN_INCREMENTAL_YEARS", r.incremental_years, int),
                            incremental_lr=get("RETRAIN_INCREMENTAL_LR", r.incremental_lr, float),
                            dependence_sessions=get("RETRAIN_DEPENDENCE_SESSIONS", r.dependence_sessions, int),
                            batch_size=get("BATCH_SIZE", r.batch_size, int),
                            threads=get("RETRAIN_THREADS", r.threads, int))
    tr = TriggerConfig()
    triggers = TriggerConfig(
        daily_at=get("RETRAIN_DAILY_AT", tr.daily_at, parse_daily),
        weekly_at=get("RETRAIN_WEEKLY_AT", tr.weekly_at, parse_weekly),
        degradation_min_n=get("RETRAIN_DEGRADATION_MIN_N", tr.degradation_min_n, int),
        degradation_margin=get("RETRAIN_DEGRADATION_MARGIN", tr.degradation_margin, float),
        on_regime_change=get("RETRAIN_ON_REGIME_CHANGE", tr.on_regime_change, flag),
        check_s=get("RETRAIN_TRIGGER_CHECK_S", tr.check_s, float),
        rollback_min_n=get("ROLLBACK_MIN_N", tr.rollback_min_n, int),
        rollback_margin=get("ROLLBACK_MARGIN", tr.rollback_margin, float))
    rg = RegimeConfig()
    regime = RegimeConfig(max_series=get("REGIME_MAX_SERIES", rg.max_series, int))
    return LifecycleSettings(inference, persistence, tft, quality, gate, retrain, triggers, regime,
                             get("MARKET_DATA_DIR", Path("../shared/data"), Path))
