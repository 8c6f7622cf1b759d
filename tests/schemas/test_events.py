import re

import orjson
import pytest

from schemas import Bar, BarSeries, DeadLetter, ForecastRequest, ForecastResult, OptionChain, SchemaError, decode, decode_ticks, encode
from schemas.events import MAX_CHAIN_QUOTES, MAX_SERIES_BARS

GOOD_BAR = {"symbol": "SPY", "ts": "2023-12-29", "open": 476.49, "high": 477.03, "low": 473.3,
            "close": 475.31, "volume": 122_283_100}


def raw(**changes) -> bytes:
    return orjson.dumps({**GOOD_BAR, **changes})


def test_bar_round_trip_and_date_time_stamp():
    b = decode(Bar, raw(ts="2023-12-29T16:00:00"))
    assert b.day.isoformat() == "2023-12-29"
    assert decode(Bar, encode(b)) == b


def test_symbol_is_normalised():
    assert decode(Bar, raw(symbol=" spy ")).symbol == "SPY"


@pytest.mark.parametrize("body, reason", [
    (b"{not json", "malformed JSON"),
    (raw(close="475.31"), "close: Input should be a valid number"),
    (raw(open=-1.0), "open: Input should be greater than 0"),
    (raw(volume=-5), "volume: Input should be greater than or equal to 0"),
    (raw(extra=1), "extra: Extra inputs are not permitted"),
    (raw(low=480.0), "low 480.0 is above high 477.03"),
    (raw(symbol="S P Y"), "symbol must be"),
    (raw(schema_version=2), "schema_version"),
    (b"", "empty message"),
])
def test_bad_bars_are_refused_with_a_reason(body, reason):
    with pytest.raises(SchemaError, match=reason.replace("(", r"\(")):
        decode(Bar, body)


def series(n: int = 3, **changes) -> bytes:
    columns = {"ts": [f"2023-12-{d:02d}" for d in range(1, n + 1)], "open": [476.49] * n, "high": [477.03] * n,
               "low": [473.3] * n, "close": [475.31] * n, "volume": [122_283_100] * n}
    return orjson.dumps({"symbol": "spy", "bars": {**columns, **changes}})


def test_a_series_is_its_bars_and_a_market_ticks_value_is_either_form():
    s = decode_ticks(series())
    assert isinstance(s, BarSeries) and decode(BarSeries, encode(s)) == s
    assert s.each() == [decode(Bar, raw(ts=f"2023-12-0{d}")) for d in (1, 2, 3)]
    assert BarSeries.of(s.each()) == s
    assert decode_ticks(raw()).each() == [decode(Bar, raw())]


@pytest.mark.parametrize("body, reason", [
    (series(close=[475.31] * 2), "every column must hold the 3 bars"),
    (series(ts=["2023-12-01", "2023-12-01", "2023-12-02"]), "ts must be strictly increasing"),
    (series(low=[473.3, 480.0, 473.3]), r"low is above high on \['2023-12-02'\]"),
    (series(close=[475.31, -1.0, 475.31]), "bars.close.1: Input should be greater than 0"),
    (series(MAX_SERIES_BARS + 1), f"at most {MAX_SERIES_BARS} items"),
    (series(0), "at least 1 item"),
])
def test_bad_series_are_refused_with_a_reason(body, reason):
    with pytest.raises(SchemaError, match=reason):
        decode_ticks(body)


def test_request_defaults_match_the_contract():
    r = decode(ForecastRequest, b'{"symbol": "SPY"}')
    assert r.forecast_horizons == [1, 5, 10, 21]
    assert r.confidence_intervals == [0.68, 0.95]
    assert r.request_id is None and r.user_id == "anonymous"


@pytest.mark.parametrize("body, reason", [
    ({"symbol": "SPY", "forecast_horizons": [3]}, "unknown horizon"),
    ({"symbol": "SPY", "forecast_horizons": [5, 5]}, "duplicates"),
    ({"symbol": "SPY", "forecast_horizons": []}, "at least 1 item"),
    ({"symbol": "SPY", "confidence_intervals": [1.2]}, "strictly between 0 and 1"),
    ({"symbol": "SPY", "risk_adjustment": "yes"}, "valid boolean"),
    ({"symbol": "SPY", "forecast_horizons": ["5"]}, "valid integer"),
])
def test_bad_requests_are_refused_with_a_reason(body, reason):
    with pytest.raises(SchemaError, match=reason):
        decode(ForecastRequest, orjson.dumps(body))


def test_results_and_dead_letters_encode_to_json():
    res = ForecastResult(request_id="r1", symbol="SPY", model_version="m", status="ok")
    assert orjson.loads(encode(res))["disclaimer"]
    letter = DeadLetter(topic="t", partition=0, offset=1, key=None, value="x", reason="r",
                        failed_at="2024-01-01T00:00:00Z")
    assert orjson.loads(encode(letter))["reason"] == "r"


def test_every_name_the_package_exports_resolves():
    import schemas
    assert [n for n in schemas.__all__ if not hasattr(schemas, n)] == []


def test_every_field_that_may_be_null_has_a_default_so_that_encoded_events_decode():
    """encode() leaves out None values: a nullable field without a default would make the
    event it encodes undecodable (it once stalled the metrics sink)."""
    import inspect
    import typing

    from pydantic import BaseModel

    import schemas.events as events
    import schemas.results as results
    missing, seen = [], 0
    for module in (events, results):
        for name, model in inspect.getmembers(module, inspect.isclass):
            if issubclass(model, BaseModel) and model.__module__ == module.__name__:
                seen += 1
                for field, info in model.model_fields.items():
                    nullable = type(None) in typing.get_args(info.annotation)
                    if nullable and info.is_required():
                        missing.append(f"{name}.{field}")
    assert seen > 20 and missing == []


CHAIN = {"symbol": "SPX", "as_of": "2011-01-24", "spot": 1290.59,
         "quotes": [{"expiry": "2011-02-19", "strike": 1300.0, "right": "C", "bid": 18.3, "ask": 19.5},
                    {"expiry": "2011-02-19", "strike": 1300.0, "right": "P", "bid": 27.1, "ask": 28.4}]}


def chain(quotes=None, **changes) -> bytes:
    return orjson.dumps({**CHAIN, **changes, "quotes": [{**CHAIN["quotes"][0], **q} for q in quotes]
                         if quotes is not None else CHAIN["quotes"]})


def test_an_option_chain_round_trips():
    c = decode(OptionChain, chain())
    assert (c.symbol, str(c.as_of), c.rate, len(c.quotes)) == ("SPX", "2011-01-24", None, 2)
    assert decode(OptionChain, encode(c)) == c


@pytest.mark.parametrize("body, reason", [
    (chain([{"ask": 18.0}]), "ask 18.0 is below bid 18.3"),
    (chain([{"right": "X"}]), "right: Input should be 'C' or 'P'"),
    (chain([{"strike": 0}]), "strike: Input should be greater than 0"),
    (chain([{"expiry": "2011-01-24"}]), "expiries ['2011-01-24'] are not after as_of 2011-01-24"),
    (chain([]), "quotes: List should have at least 1 item"),
    (chain([{}] * (MAX_CHAIN_QUOTES + 1)), "quotes: List should have at most 10000 items"),
    (chain(rate=0.9), "rate: Input should be less than or equal to 0.5"),
])
def test_bad_chains_are_refused_with_a_reason(body, reason):
    with pytest.raises(SchemaError, match=re.escape(reason)):
        decode(OptionChain, body)
