"""Topic administration and plain producers/consumers for the CLI (replay, request)."""
import asyncio

from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import TopicAlreadyExistsError


async def ensure_topics(client: dict, names: list[str], partitions: int,
                        replication_factor: int) -> list[str]:
    """Create the topics that do not exist yet; returns the names created. `client`:
    aiokafka's connection arguments (`Settings.kafka_client`)."""
    admin = AIOKafkaAdminClient(**client)
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        missing = [n for n in names if n not in existing]
        if missing:
            try:
                await admin.create_topics([NewTopic(n, partitions, replication_factor) for n in missing])
            except TopicAlreadyExistsError:  # another worker created it in between
                pass
            await asyncio.sleep(0.5)  # let metadata propagate before consumers subscribe
        return missing
    finally:
        await admin.close()
