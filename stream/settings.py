"""The worker's settings: the lifecycle's (lifecycle/settings.py) and the Kafka side's,
the brokers, topics, web server and credentials. Names are listed in the README."""
import os
from collections.abc import Mapping
from dataclasses import dataclass, fields
from pathlib import Path

from pydantic import SecretStr

from lifecycle.settings import LifecycleSettings, SettingsError, load_lifecycle_settings, reader
from stream.access import AccessConfig, kafka_client_auth, parse_api_keys
from stream.config import AT_LEAST_ONCE, EXACTLY_ONCE, StreamConfig

__all__ = ["Settings", "SettingsError", "load_settings"]


@dataclass(frozen=True)
class Settings(LifecycleSettings):
    stream: StreamConfig
    access: AccessConfig

    def kafka_client(self) -> dict:
        """Keyword arguments for an aiokafka client of our own: the brokers, and the
        credentials Faust's clients use."""
        return {"bootstrap_servers": self.stream.bootstrap_servers, **kafka_client_auth(self.access)}


def guarantee(text: str) -> str:
    if text not in (AT_LEAST_ONCE, EXACTLY_ONCE):
        raise ValueError(f"one of {AT_LEAST_ONCE}, {EXACTLY_ONCE}")
    return text


def load_settings(env: Mapping[str, str] = os.environ) -> Settings:
    lifecycle = load_lifecycle_settings(env)
    get, s, a = reader(env), StreamConfig(), AccessConfig()
    stream = StreamConfig(
        bootstrap_servers=get("KAFKA_BOOTSTRAP_SERVERS", s.bootstrap_servers),
        app_id=get("TFT_APP_ID", s.app_id),
        topic_prefix=get("KAFKA_TOPIC_PREFIX", s.topic_prefix),
        partitions=get("KAFKA_PARTITIONS", s.partitions, int),
        replication_factor=get("KAFKA_REPLICATION_FACTOR", s.replication_factor, int),
        state_dir=get("TFT_STATE_DIR", s.state_dir, Path),
        web_host=get("TFT_WEB_HOST", s.web_host),
        web_bind=get("TFT_WEB_BIND", s.web_bind),
        web_port=get("TFT_WEB_PORT", s.web_port, int),
        window_bars=get("TFT_WINDOW_BARS", s.window_bars, int),
        lag_interval_s=get("TFT_LAG_INTERVAL_S", s.lag_interval_s, float),
        max_event_bytes=get("TFT_MAX_EVENT_BYTES", s.max_event_bytes, int),
        max_body_bytes=get("TFT_MAX_BODY_BYTES", s.max_body_bytes, int),
        context_refresh_s=get("TFT_CONTEXT_REFRESH_S", s.context_refresh_s, float),
        batch_within_ms=get("TFT_BATCH_WITHIN_MS", s.batch_within_ms, float),
        producer_linger_ms=get("KAFKA_PRODUCER_LINGER_MS", s.producer_linger_ms, int),
        session_timeout_s=get("KAFKA_SESSION_TIMEOUT_S", s.session_timeout_s, float),
        commit_interval_s=get("KAFKA_COMMIT_INTERVAL_S", s.commit_interval_s, float),
        standby_replicas=get("TFT_STANDBY_REPLICAS", s.standby_replicas, int),
        processing_guarantee=get("TFT_PROCESSING_GUARANTEE", s.processing_guarantee, guarantee),
    )
    try:
        access = AccessConfig(
            security_protocol=get("KAFKA_SECURITY_PROTOCOL", a.security_protocol).upper(),
            sasl_mechanism=get("KAFKA_SASL_MECHANISM", a.sasl_mechanism).upper(),
            sasl_username=get("KAFKA_SASL_USERNAME", a.sasl_username),
            sasl_password=get("KAFKA_SASL_PASSWORD", a.sasl_password, SecretStr),
            ssl_cafile=get("KAFKA_SSL_CAFILE", a.ssl_cafile, Path),
            ssl_certfile=get("KAFKA_SSL_CERTFILE", a.ssl_certfile, Path),
            ssl_keyfile=get("KAFKA_SSL_KEYFILE", a.ssl_keyfile, Path),
            api_keys=parse_api_keys(env.get("TFT_API_KEYS", "")),  # not through get(): it echoes values
        )
    except ValueError as e:
        raise SettingsError(str(e)) from None
    return Settings(**{f.name: getattr(lifecycle, f.name) for f in fields(lifecycle)}, stream=stream, access=access)
