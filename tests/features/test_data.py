import numpy as np

from features.calendar import is_session
from features.data import DataNotFound, find, load_context, load_panel


def test_files_are_found_by_prefix(data_dir, tmp_path):
    assert find(data_dir, "us_daily_ohlcv_adjusted_").name.startswith("us_daily_ohlcv_adjusted_")
    try:
        find(tmp_path, "us_daily_ohlcv_adjusted_")
    except DataNotFound as e:
        assert "us_daily_ohlcv_adjusted_" in str(e)
    else:
        raise AssertionError("an empty folder must raise DataNotFound")


def test_a_folder_of_links_is_read_as_the_folder_it_links_to(data_dir, tmp_path):
    """The layout a team assembles from links: linked folders and linked files, a loop."""
    linked, real = tmp_path / "data", data_dir.resolve()  # a relative target would resolve from the link
    linked.mkdir()
    (linked / "daily").symlink_to(real / "daily", target_is_directory=True)
    (linked / "cboe").symlink_to(real / "daily" / "cboe", target_is_directory=True)
    (linked / "daily_again").symlink_to(linked, target_is_directory=True)  # a loop, read once
    assert find(linked, "us_daily_ohlcv_adjusted_").resolve() == find(data_dir, "us_daily_ohlcv_adjusted_").resolve()
    assert find(linked, "VIX3M_History").resolve() == find(data_dir, "VIX3M_History").resolve()
    panel = load_panel(linked, ["SPY"], start="2023-12-01")
    assert len(panel) == len(load_panel(data_dir, ["SPY"], start="2023-12-01")) > 10


def test_context_series_sit_on_nyse_sessions_only(data_dir):
    ctx = load_context(data_dir)
    assert is_session(ctx["date"].values.astype("datetime64[D]")).all()
    vix = ctx[ctx["symbol"] == "VIX"]
    # CBOE published VIX on 2004-06-11 (Reagan's funeral, NYSE closed); it must be gone.
    assert not (vix["date"] == "2004-06-11").any()
    assert (vix["low"] <= vix["close"]).all() and (vix["close"] <= vix["high"]).all()
    vvix = ctx[ctx["symbol"] == "VVIX"]
    assert vvix["date"].min().year == 2007  # early glitches dropped


def test_panel_is_sorted_and_vix_comes_from_cboe(data_dir):
    p = load_panel(data_dir, ["SPY", "TLT"], start="2002-01-01", end="2003-12-31")
    assert list(p["symbol"].unique()) == ["SPY", "TLT"]
    assert (np.diff(p[p["symbol"] == "SPY"]["date"].values).astype(int) > 0).all()
    assert "VIX" not in set(load_panel(data_dir)["symbol"])
