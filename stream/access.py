"""Who may talk to the service: the credentials every Kafka client of the worker uses,
and API keys with roles for the HTTP API. No Faust here: stream/client.py connects with
the same credentials from trading code (Faust's own are made in stream/app.py).

Secrets are `SecretStr`: they print as stars, so a settings object in a log line, a
traceback or a status page does not give them away.
"""
import hmac
import ssl
from dataclasses import dataclass
from pathlib import Path

from pydantic import SecretStr

PROTOCOLS = ("PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL")
MECHANISMS = ("PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512")
ROLES = ("reader", "operator")  # each may do what the ones before it may


@dataclass(frozen=True)
class AccessConfig:
    security_protocol: str = "PLAINTEXT"
    sasl_mechanism: str = "PLAIN"
    sasl_username: str | None = None
    sasl_password: SecretStr | None = None
    ssl_cafile: Path | None = None  # the CA that signed the brokers' certificates
    ssl_certfile: Path | None = None  # this client's certificate and key, for mutual TLS
    ssl_keyfile: Path | None = None
    # (key, role). With none configured the HTTP API is open, as on a private network.
    api_keys: tuple[tuple[SecretStr, str], ...] = ()

    def __post_init__(self):
        if self.security_protocol not in PROTOCOLS:
            raise ValueError(f"KAFKA_SECURITY_PROTOCOL must be one of {PROTOCOLS}, got {self.security_protocol!r}")
        if self.sasl_mechanism not in MECHANISMS:
            raise ValueError(f"KAFKA_SASL_MECHANISM must be one of {MECHANISMS}, got {self.sasl_mechanism!r}")
        if self.security_protocol.startswith("SASL") and not (self.sasl_username and self.sasl_password):
            raise ValueError(f"KAFKA_SECURITY_PROTOCOL={self.security_protocol} needs KAFKA_SASL_USERNAME "
                             "and KAFKA_SASL_PASSWORD")
        for _, role in self.api_keys:
            if role not in ROLES:
                raise ValueError(f"TFT_API_KEYS: unknown role {role!r}; roles are {ROLES}")


def parse_api_keys(text: str) -> tuple[tuple[SecretStr, str], ...]:
    """'role:key,role:key' (a key may hold ':' itself)."""
    out = []
    for item in filter(None, (i.strip() for i in text.split(","))):
        role, sep, key = item.partition(":")
        if not sep or not key:
            raise ValueError("TFT_API_KEYS must look like 'operator:KEY,reader:KEY'")
        out.append((SecretStr(key), role))
    return tuple(out)


def ssl_context(config: AccessConfig) -> ssl.SSLContext | None:
    if not config.security_protocol.endswith("SSL"):
        return None
    context = ssl.create_default_context(cafile=str(config.ssl_cafile) if config.ssl_cafile else None)
    if config.ssl_certfile:
        context.load_cert_chain(str(config.ssl_certfile), str(config.ssl_keyfile) if config.ssl_keyfile else None)
    return context


def kafka_client_auth(config: AccessConfig) -> dict:
    """The credentials as keyword arguments of an aiokafka client of our own."""
    auth = {"security_protocol": config.security_protocol, "ssl_context": ssl_context(config)}
    if config.security_protocol.startswith("SASL"):
        auth |= {"sasl_mechanism": config.sasl_mechanism, "sasl_plain_username": config.sasl_username,
                 "sasl_plain_password": config.sasl_password.get_secret_value()}
    return auth


def role_of(config: AccessConfig, key: str | None) -> str | None:
    if key is None:
        return None
    given = key.encode()
    for secret, role in config.api_keys:
        if hmac.compare_digest(secret.get_secret_value().encode(), given):
            return role
    return None


def peer_key(config: AccessConfig) -> str | None:
    """The key a worker asks its peers with for work that came over Kafka, which carries no
    key (a book's members held elsewhere): the first that may read. Every worker of a group
    is configured with the same keys."""
    return next((k.get_secret_value() for k, role in config.api_keys if ROLES.index(role) >= ROLES.index("reader")),
                None)


def refusal(config: AccessConfig, key: str | None, needs: str) -> tuple[int, str] | None:
    """(HTTP status, message) when `key` may not do what needs the role `needs`, else None."""
    if not config.api_keys:
        return None
    role = role_of(config, key)
    if role is None:
        return 401, "an API key is needed: send it in the X-API-Key header" if key is None else "unknown API key"
    if ROLES.index(role) < ROLES.index(needs):
        return 403, f"this needs the {needs} role; the key given has the {role} role"
    return None
