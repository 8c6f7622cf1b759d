"""Topic administration and plain producers/consumers for the CLI (replay, request)."""
import asyncio

from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import TopicAlreadyExistsError


async def ensure_topics(client: dict, names: list[str], partitions: int,
                        replication_factor: int, compacted: list[str] = ()) -> list[str]:
    """Create the topics that do not exist yet, `compacted` with compaction (the tables'
    changelogs: made here, before Faust starts, a fresh broker's metadata has them by the
    first partition assignment, which otherwise can stall on a changelog it does not
    list yet); returns the names created. `client`: aiokafka's connection arguments."""
    admin = AIOKafkaAdminClient(**client)
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        missing = [n for n in (*names, *compacted) if n not in existing]
        if missing:
            try:
                await admin.create_topics([
                    NewTopic(n, partitions, replication_factor,
                             topic_configs={"cleanup.policy": "compact"} if n in compacted else {})
                    for n in missing])
            except TopicAlreadyExistsError:  # another worker created it in between
                pass
            await asyncio.sleep(0.5)  # let metadata propagate before consumers subscribe
        return missing
    finally:
        await admin.close()
