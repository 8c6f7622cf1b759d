"""Books over HTTP and on forecast.requests: the members served as single requests are,
joined by the served model's copula; a book that cannot be forecast is refused, named."""
import httpx
import orjson
import pytest

from schemas.portfolio import PortfolioRequest, PortfolioResult
from stream.client import ForecastRefused
from tests.stream.test_client import client_of

pytestmark = pytest.mark.integration


async def post(worker, path: str, body) -> httpx.Response:
    async with httpx.AsyncClient(timeout=30) as client:
        return await client.post(worker.url + path, content=body if isinstance(body, bytes) else orjson.dumps(body))


async def test_a_book_over_http_has_var_es_and_contributions_from_its_members_served_forecasts(worker):
    r = await post(worker, "/forecast/portfolio", {"weights": {"SPY": 0.6, "TLT": 0.4}, "forecast_horizons": [1, 5],
                                                   "levels": [0.99, 0.95], "user_id": "risk-desk"})
    assert r.status_code == 200, r.text
    book = r.json()
    assert book["kind"] == "portfolio" and book["status"] == "ok" and book["weights"] == {"SPY": 0.6, "TLT": 0.4}
    assert book["dependence"]["family"] in ("gaussian", "t") and book["dependence"]["as_of"]
    assert [m["symbol"] for m in book["members"]] == ["SPY", "TLT"] and "disclaimer" in book
    assert [m["request_id"] for m in book["members"]] == [f"{book['request_id']}:{s}" for s in ("SPY", "TLT")]
    for h in book["horizons"]:
        var, es = h["value_at_risk"], h["expected_shortfall"]
        assert es["0.99"] >= var["0.99"] > var["0.95"] > 0 and es["0.95"] >= var["0.95"]
        for level in ("0.95", "0.99"):
            assert sum(h["contributions"][level].values()) == pytest.approx(var[level], rel=1e-9)
    assert book["horizons"][1]["value_at_risk"]["0.95"] > book["horizons"][0]["value_at_risk"]["0.95"]
    single = (await post(worker, "/forecast/generate", {"symbol": "SPY", "forecast_horizons": [1, 5],
                                                        "user_id": "risk-desk"})).json()
    assert book["members"][0]["forecasts"] == single["forecasts"]  # a member is forecast as a single request is


async def test_a_one_symbol_book_loses_what_its_own_forecast_says(worker):
    """The whole path from a served result to the book's draws: a book of SPY alone has
    SPY's own 5% quantile as its 95% VaR, within the draws' error."""
    book = (await post(worker, "/forecast/portfolio", {"weights": {"SPY": 1.0}, "forecast_horizons": [1],
                                                       "levels": [0.95]})).json()
    spy = (await post(worker, "/forecast/generate", {"symbol": "SPY", "forecast_horizons": [1],
                                                     "confidence_intervals": [0.9]})).json()
    low = spy["forecasts"][0]["intervals"]["0.9"][0]
    assert book["horizons"][0]["value_at_risk"]["0.95"] == pytest.approx(1 - low / spy["last_close"], rel=0.03)


async def test_a_book_with_a_symbol_without_bars_is_a_404_naming_it_and_bad_weights_a_422(worker):
    r = await post(worker, "/forecast/portfolio", {"weights": {"SPY": 0.5, "NOPE": 0.5}})
    assert r.status_code == 404 and "NOPE" in r.json()["error"]["message"]
    r = await post(worker, "/forecast/portfolio", b'{"weights": {"SPY": NaN}}')
    assert r.status_code == 422 and "finite" in r.json()["error"]["message"]
    r = await post(worker, "/forecast/portfolio", {"weights": {}})
    assert r.status_code == 422 and "weights" in r.json()["error"]["message"]


async def test_a_book_on_kafka_is_answered_through_the_client_and_a_bad_one_goes_to_the_dlq(worker, kafka):
    async with client_of(worker) as client:
        book = await client.portfolio(PortfolioRequest(weights={"SPY": 1.0, "AAPL": -0.5}, forecast_horizons=[21]))
        assert isinstance(book, PortfolioResult) and book.status == "ok" and book.horizons[0].horizon == 21
        assert [m.symbol for m in book.members] == ["AAPL", "SPY"]
        with pytest.raises(ForecastRefused, match="NOPE"):
            await client.portfolio(PortfolioRequest(weights={"SPY": 1.0, "NOPE": 1.0}))
    bad = orjson.dumps({"weights": {"SPY": 0.0}})
    await kafka.send(worker.topic("forecast.requests"), bad, key=None)
    letters = await kafka.collect(worker.topic("forecast.requests.dlq"),
                                  lambda vs: any(v["value"] == bad.decode() for v in vs))
    assert any("all zero" in v["reason"] for v in letters if v["value"] == bad.decode())
