"""What is held per symbol: its regime, its option surface, the served model's feature
importance for it."""
from collections.abc import Callable

from faust.web import Request, Response, View

from persistence.repositories.feature_importance import FeatureImportanceRepository
from schemas import HORIZONS
from schemas.events import check_symbol
from stream.tables import regime_states, surfaces
from stream.views.replies import error, json, refused


def held_for(settings, view: View, request: Request, symbol: str, find: Callable[[str], dict | None],
             missing: str) -> Response:
    """A reader's look at what is held for one symbol: 422 for a name that is not a symbol,
    404 with `missing` (formatted with the symbol) when nothing is held."""
    if (refusal := refused(settings, view, request, "reader")) is not None:
        return refusal
    try:
        symbol = check_symbol(symbol)
    except ValueError as e:
        return error(view, 422, "invalid_request", f"symbol: {e}")
    found = find(symbol)
    if found is None:
        return error(view, 404, "not_found", missing.format(symbol=symbol))
    return json(view, found)


def regime_state(symbol: str) -> dict | None:
    held = regime_states(symbol)
    return None if held is None else held[0].model_dump(mode="json", exclude_none=True)


def surface(symbol: str) -> dict | None:
    info = surfaces.info(symbol)
    return None if info is None else info.model_dump(mode="json")


def install(rt) -> None:
    settings = rt.settings

    @rt.app.page("/market/regime/{symbol}")
    class MarketRegime(View):
        """A symbol's regime as of its last bar: probabilities, confidence, since when, for how
        many sessions, and the regime before it. Any worker answers: the states are global."""

        async def get(self, request: Request, symbol: str) -> Response:
            return held_for(settings, self, request, symbol, regime_state,
                            "no regime for {symbol}: no bars of it yet, too few, or not a traded price series")

    @rt.app.page("/market/options/{symbol}")
    class OptionSurface(View):
        """A symbol's latest option surface, fitted from its last chain on options.quotes."""

        async def get(self, request: Request, symbol: str) -> Response:
            return held_for(settings, self, request, symbol, surface, "no option chain of {symbol} has been fitted")

    @rt.app.page("/features/{symbol}/importance")
    class FeatureImportance(View):
        async def get(self, request: Request, symbol: str) -> Response:
            if (refusal := refused(settings, self, request, "reader")) is not None:
                return refusal
            try:
                horizon = int(request.query.get("horizon", "5"))
            except ValueError:
                return error(self, 422, "invalid_request", "horizon must be an integer")
            if horizon not in HORIZONS:
                return error(self, 422, "invalid_request", f"unknown horizon {horizon}; supported: {list(HORIZONS)}")
            if symbol != "*":
                try:
                    symbol = check_symbol(symbol)
                except ValueError as e:
                    return error(self, 422, "invalid_request", f"symbol: {e}")
            version = (await rt.opened()).service.model_version
            async with rt.pool.acquire() as conn:
                rows = await FeatureImportanceRepository(conn).for_symbol(
                    model_version=version, symbol=symbol, horizon=horizon)
            if not rows:
                return error(self, 404, "not_found", f"no importance stored for {symbol} under {version}; "
                                                     "run `tft-forecast interpret --store`")
            return json(self, {"symbol": symbol, "horizon": horizon, "model_version": version, "features": rows})
