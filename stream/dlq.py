"""Dead letters: a message that is not a valid event goes to `<topic>.dlq`, with the
original bytes, where it came from and why; the agent carries on with the next one."""
import logging
from datetime import UTC, datetime

import faust

from schemas import DeadLetter, encode
from stream import metrics
from stream.topics import dead_letters

log = logging.getLogger(__name__)


def dead_letter(event: faust.types.EventT, reason: str) -> DeadLetter:
    msg = event.message
    raw = msg.value if isinstance(msg.value, bytes | None) else bytes(msg.value)
    key = msg.key.decode("utf-8", "backslashreplace") if isinstance(msg.key, bytes) else msg.key
    return DeadLetter(topic=msg.topic, partition=msg.partition, offset=msg.offset, key=key,
                      value=(raw or b"").decode("utf-8", "backslashreplace"), reason=reason,
                      failed_at=datetime.now(UTC))


async def send_dead_letter(delivery, event: faust.types.EventT, source: str, reason: str) -> None:
    """`delivery`: the runtime's (stream/delivery.py), which sends it with what else `event` caused."""
    letter = dead_letter(event, reason)
    log.warning("dead letter from %s[%d]@%d: %s", letter.topic, letter.partition, letter.offset, reason)
    await delivery.send(dead_letters[source], event.message.key, encode(letter), event)
    metrics.dead_letters_total.labels(topic=source, reason=metrics.reason_class(reason)).inc()
