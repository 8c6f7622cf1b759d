"""A backfill's form: each symbol's bars as series, the context series first."""
from features.cross_asset import is_context
from features.data import load
from schemas import BarSeries, decode_ticks, encode
from schemas.events import MAX_SERIES_BARS
from stream.publish import bars_from_panel, series_from_panel


def test_a_backfill_sends_each_symbols_bars_as_series_context_first(data_dir):
    panel = load(data_dir).all_bars().groupby("symbol", group_keys=False).tail(MAX_SERIES_BARS + 10)
    series = series_from_panel(panel)
    assert [len(s.bars.ts) for s in series if s.symbol == "SPY"] == [MAX_SERIES_BARS, 10]  # split, in order
    flat = [bar for s in series for bar in decode_ticks(encode(s)).each()]  # as a worker reads them
    assert sorted(flat, key=repr) == sorted(bars_from_panel(panel), key=repr)  # every bar, unchanged
    runs = [s.symbol for i, s in enumerate(series) if i == 0 or series[i - 1].symbol != s.symbol]
    assert len(runs) == len(set(runs)) == panel["symbol"].nunique()
    assert [is_context(s) for s in runs] == sorted((is_context(s) for s in runs), reverse=True)
    assert is_context(runs[0]) and not is_context(runs[-1])
    assert all(isinstance(s, BarSeries) and len(encode(s)) < 64 << 10 for s in series)  # under the size limit
