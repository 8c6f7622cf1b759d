import orjson
import pytest

from schemas import Bar, DeadLetter, ForecastRequest, ForecastResult, SchemaError, decode, encode

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


def test_every_field_that_may_be_null_has_a_default_so_that_encoded_events_decode():
    """encode() leaves out None values: a nullable field without a default would make the
    event it encodes undecodable (it once stalled the metrics sink)."""
    import inspect
    import typing

    from pydantic import BaseModel

    import schemas.events as events
    missing = []
    for name, model in inspect.getmembers(events, inspect.isclass):
        if issubclass(model, BaseModel) and model.__module__ == events.__name__:
            for field, info in model.model_fields.items():
                nullable = type(None) in typing.get_args(info.annotation)
                if nullable and info.is_required():
                    missing.append(f"{name}.{field}")
    assert missing == []
