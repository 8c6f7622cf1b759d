"""The Faust application. Topics, tables and agents register on it by explicit import."""
import faust

from stream.access import AccessConfig, ssl_context
from stream.consumer import App
from stream.recovery import Assignor, Tables
from stream.settings import load_settings


def broker_credentials(config: AccessConfig) -> faust.types.auth.CredentialsT | None:
    """What Faust's own consumer, producer and admin client connect with: the credentials
    of stream.access.kafka_client_auth, in Faust's types."""
    context = ssl_context(config)
    if config.security_protocol.startswith("SASL"):
        return faust.SASLCredentials(username=config.sasl_username,
                                     password=config.sasl_password.get_secret_value(),
                                     mechanism=config.sasl_mechanism, ssl_context=context)
    return faust.SSLCredentials(context) if context is not None else None


settings = load_settings()
_s = settings.stream

app = App(
    _s.app_id,
    broker=[f"kafka://{hp.strip()}" for hp in _s.bootstrap_servers.split(",")],
    broker_credentials=broker_credentials(settings.access),
    store="rocksdb://",  # faust-streaming opens it with rocksdict
    datadir=str(_s.state_dir),
    web_host=_s.web_host,
    web_port=_s.web_port,
    web_bind=_s.web_bind or _s.web_host,
    topic_partitions=_s.partitions,
    topic_replication_factor=_s.replication_factor,
    # Values stay bytes: each agent decodes against its schema so bad input reaches the DLQ.
    key_serializer="raw",
    value_serializer="raw",
    consumer_auto_offset_reset="earliest",
    producer_acks=-1,
    # Measured on the serving path (README, "Throughput"): a few ms of linger batches
    # results and ledger records into far fewer produce requests.
    producer_linger_ms=_s.producer_linger_ms,
    # Bounds what a crash makes Kafka redeliver, and how long readiness trails ingestion.
    broker_commit_interval=_s.commit_interval_s,
    broker_session_timeout=_s.session_timeout_s,
    table_standby_replicas=_s.standby_replicas,
    # What a worker holds of a backlog: the rest waits in Kafka (Faust's defaults, 4096
    # events per partition and 4 MiB per fetch, held 100 MB more under a burst).
    stream_buffer_maxsize=1024,
    consumer_max_fetch_size=1 << 20,
    TableManager=Tables,
    PartitionAssignor=Assignor,
)
