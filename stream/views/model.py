"""The model's lifecycle over HTTP: its status and live accuracy, promotion through the
gate, rollback, retraining jobs and their progress. Commands need an operator key and
are audited, accepted or refused."""
import uuid

from faust.web import Request, Response, View

from lifecycle.promotion import promote_checked
from lifecycle.store import rollback
from persistence.repositories.model_jobs import ModelJobsRepository
from persistence.repositories.model_registry import LifecycleError, ModelNotRegistered, ModelRegistryRepository
from persistence.repositories.validation import ValidationRepository
from schemas import RetrainCommand, encode
from schemas.http import PromoteCommand, RollbackCommand
from stream.topics import model_commands
from stream.views.replies import actor, audit, decoded, error, json, refused


async def model_status(rt, by: str) -> dict:
    forecaster, predecessor = (await rt.opened()).service.forecaster, rt.host.shadow
    s = rt.settings
    async with rt.pool.acquire() as conn:
        accuracy = await ValidationRepository(conn).accuracy(forecaster.version, by)
        history = await ModelRegistryRepository(conn).history()
        shadow = predecessor and await ValidationRepository(conn).versus_shadow(forecaster.version,
                                                                                 predecessor.version)
    return {
        "model_version": forecaster.version,
        "min_history": forecaster.min_history,
        "max_batch": s.inference.max_batch,
        "max_wait_ms": s.inference.max_wait_ms,
        "window_bars": s.stream.window_bars,
        "model": forecaster.describe(),
        "live_accuracy": {"by": by, "rows": accuracy},
        "shadow": shadow and shadow | {"version": predecessor.version,
                                       "rollback_after_n": s.triggers.rollback_min_n,
                                       "rollback_margin": s.triggers.rollback_margin},
        "versions": history,  # the registry, newest first: status, who promoted, why, the gate
    }


def install(rt) -> None:
    settings = rt.settings

    @rt.app.page("/model/status")
    class ModelStatus(View):
        async def get(self, request: Request) -> Response:
            if (refusal := refused(settings, self, request, "reader")) is not None:
                return refusal
            by = request.query.get("accuracy_by", "all")
            if by not in ("all", "symbol", "regime"):
                return error(self, 422, "invalid_request", "accuracy_by must be all, symbol or regime")
            return json(self, await model_status(rt, by))

    @rt.app.page("/model/promote")
    class Promote(View):
        """Gates and promotes a registered version; the gate's backtests run in a thread, so
        forecasts keep flowing meanwhile."""

        async def post(self, request: Request) -> Response:
            body, refusal = await decoded(settings, self, request, PromoteCommand, "operator")
            if refusal is not None:
                await audit(rt, "promote", request, {}, "refused", "key refused or invalid body")
                return refusal
            try:
                record = await promote_checked(settings, body.version, by=actor(settings, request), reason=body.reason,
                                               source="http", force=body.force)
            except ModelNotRegistered as e:
                return error(self, 404, "not_found", f"{e}; register it with `tft-forecast register`")
            except Exception as e:  # noqa: BLE001 - the gate could not run: said to the operator
                return error(self, 422, "promotion_failed", f"{type(e).__name__}: {e}")
            return json(self, record, 200 if record["promoted"] else 409)

    @rt.app.page("/model/rollback")
    class Rollback(View):
        async def post(self, request: Request) -> Response:
            body, refusal = await decoded(settings, self, request, RollbackCommand, "operator")
            if refusal is not None:
                await audit(rt, "rollback", request, {}, "refused", "key refused or invalid body")
                return refusal
            try:
                record = await rollback(settings.persistence.database_url, actor(settings, request), body.reason,
                                        "http")
            except LifecycleError as e:
                await audit(rt, "rollback", request, {}, "refused", str(e))
                return error(self, 409, "nothing_to_roll_back", str(e))
            return json(self, record)

    @rt.app.page("/model/retrain")
    class Retrain(View):
        """Queues a retraining job (on model.commands) and answers its id at once."""

        async def post(self, request: Request) -> Response:
            body, refusal = await decoded(settings, self, request, RetrainCommand, "operator")
            if refusal is not None:
                await audit(rt, "retrain", request, {}, "refused", "key refused or invalid body")
                return refusal
            command = body.model_copy(update={"job_id": f"http-{uuid.uuid4().hex[:12]}"})
            await audit(rt, "retrain", request, command.model_dump(), "accepted", command.reason)
            await (await model_commands.send(key=command.job_id.encode(), value=encode(command)))
            return json(self, {"job_id": command.job_id, "status": "queued",
                               "follow": f"GET /model/jobs/{command.job_id}, or model.events"}, 202)

    @rt.app.page("/model/jobs/{job_id}")
    class Job(View):
        async def get(self, request: Request, job_id: str) -> Response:
            if (refusal := refused(settings, self, request, "reader")) is not None:
                return refusal
            await rt.opened()
            async with rt.pool.acquire() as conn:
                job = await ModelJobsRepository(conn).get(job_id)
            if job is None:
                return error(self, 404, "not_found", f"no job {job_id!r}")
            return json(self, job)
