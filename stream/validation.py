"""Live validation in the worker: every few seconds the forecasts whose horizon has come
are settled (lifecycle/settle.py) and the accuracy gauges of the served model updated.

Each worker settles the symbols whose windows it holds. While the served version has a
predecessor (the version it replaced), the predecessor is scored in shadow too, and
once the served version is worse on the same forecasts by ROLLBACK_MARGIN over
ROLLBACK_MIN_N of them, the registry rolls back by itself (audited, and told on
model.events). Every worker follows the registry back; the one whose rollback lands
first is the one that does it.

The served version's interval misses move its adaptive interval scales one step per
horizon and outcome day, which every worker then serves from its next pass. With W
workers each steps on its own symbols' outcomes, so a day counts up to W steps.
"""
import logging
import math
import time
from datetime import UTC, datetime

from features.cross_asset import Context
from features.window import BarWindow
from inference.models import Forecaster
from lifecycle.settle import settle, step_scales, worse_than_shadow
from lifecycle.store import rollback
from persistence import AWAY
from persistence.repositories.model_registry import LifecycleError
from persistence.repositories.validation import ValidationRepository
from schemas import ModelEvent, encode
from stream import metrics
from stream.tables import contexts, windows
from stream.topics import model_events

log = logging.getLogger(__name__)


class HeldBars:
    """This worker's windows, and each symbol's context, as lifecycle.settle reads them."""

    def symbols(self) -> list[str]:
        return windows.symbols()

    def get(self, symbol: str) -> BarWindow | None:
        return windows.get(symbol)

    def context(self, symbol: str) -> Context:
        return contexts.of(symbol)


async def roll_back_if_worse(rt, served: str, shadow: Forecaster) -> None:
    t = rt.settings.triggers
    versus, why = await worse_than_shadow(rt.pool, served, shadow, t.rollback_min_n, t.rollback_margin)
    if versus["n"]:
        metrics.shadow_pinball.labels("served").set(versus["pinball"])
        metrics.shadow_pinball.labels("predecessor").set(versus["shadow_pinball"])
    if why is None:
        return
    try:
        record = await rollback(rt.settings.persistence.database_url, "auto-rollback", why, "auto", expected=served)
    except LifecycleError:
        return  # another worker, or an operator, got there first
    metrics.rollbacks_total.inc()
    log.warning("rolled back %s to %s: %s", record["retired"], record["active"], why)
    await model_events.send(key=f"rollback-{served}".encode(), value=encode(ModelEvent(
        job_id=f"rollback-{served}", kind="rolled_back", at=datetime.now(UTC), message=why,
        version=record["active"], detail={"retired": record["retired"], **versus})))


async def validate(rt, accuracy_due: bool) -> int:
    """One pass; the forecasts it scored. The accuracy gauges are read again when some
    were and `accuracy_due`."""
    host, inference = rt.host, rt.settings.inference
    served, shadow = host.service.model_version, host.shadow
    n, misses = await settle(rt.pool, HeldBars(), served, shadow)
    if inference.adaptive_intervals:  # with no outcomes of its own too: others step the scales
        host.follow_scales(served, await step_scales(rt.pool, served, misses, inference.adaptive_gamma))
    if n:
        metrics.validated_total.inc(n)
        if accuracy_due:
            async with rt.pool.acquire() as conn:
                metrics.observe_accuracy(await ValidationRepository(conn).accuracy(served))
        if shadow is not None:
            await roll_back_if_worse(rt, served, shadow)
    return n


def install(rt) -> None:
    every_s = rt.settings.persistence.accuracy_every_s
    accuracy_read = -math.inf  # when the gauges were last read again

    @rt.app.timer(interval=rt.settings.persistence.validate_every_s)
    async def validate_forecasts() -> None:
        nonlocal accuracy_read
        if not rt.is_open:
            return
        try:
            due = time.monotonic() - accuracy_read >= every_s
            if await validate(rt, due) and due:
                accuracy_read = time.monotonic()
        except AWAY as e:
            log.warning("live validation waits for PostgreSQL (%s: %s)", type(e).__name__, e)
