"""The order bars are published in: a live feed's, or a backfill's."""
from features.cross_asset import is_context
from features.data import load
from stream.publish import bars_from_panel


def test_a_backfill_sends_each_series_whole_and_the_context_first(data_dir):
    panel = load(data_dir).all_bars().groupby("symbol", group_keys=False).tail(20)
    live, backfill = bars_from_panel(panel), bars_from_panel(panel, backfill=True)
    assert sorted(live, key=repr) == sorted(backfill, key=repr)  # the same bars
    assert [b.ts for b in live] == sorted(b.ts for b in live)

    runs = [b.symbol for i, b in enumerate(backfill) if i == 0 or backfill[i - 1].symbol != b.symbol]
    assert len(runs) == len(set(runs)) == panel["symbol"].nunique()  # one run per series
    assert [is_context(s) for s in runs] == sorted((is_context(s) for s in runs), reverse=True)
    assert "VIX" in runs and "SPY" in runs and is_context(runs[0]) and not is_context(runs[-1])
    for symbol in ("VIX", "AAPL"):
        days = [b.ts for b in backfill if b.symbol == symbol]
        assert days == sorted(days) and len(days) == 20
