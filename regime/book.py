"""Every symbol's regime: its asset class's HMM (regime/hmm.py) on its own observations.

Observations of a day, from bars up to it:
  0. the log return, in units of the symbol's long-run daily volatility;
  1. the log of the 21-session realized volatility over that long-run level;
  2. for equities, the log of VIX;
  3. for equities, the 21-session change of log VIX: its trend.
A symbol's long-run level is the median of its 21-session volatility up to the fit's
last day, kept in the book; a symbol the fit did not see takes its window's. Scaled so,
a calm day of TSLA and a calm day of KO look alike to the equity model, and each
symbol's regime is its own. Days before the windows fill are left out.
"""
from dataclasses import dataclass

import numpy as np
import pandas as pd

from features import rolling
from features.cross_asset import MARKET, SENTIMENT, VOLATILITY, Context
from features.options import is_option_series
from regime.hmm import RegimeConfig, RegimeModel, fit
from schemas import RegimeEvent, RegimeInfo, RegimeState

EQUITY, OTHER = "equity", "other"
NON_EQUITY = ("TLT", "GLD", "SLV", "USO", "UUP", "HYG")  # bonds, metals, oil, the dollar, credit
VOL_WINDOW = 21
TREND = 21
MIN_DAYS = 21  # observations a window needs before it is placed in a regime
LOOKBACK = VOL_WINDOW + TREND + 1  # bars before a day that its observation reads


def asset_class(symbol: str) -> str | None:
    """The class whose model reads the symbol; None for series that are not prices."""
    if symbol in VOLATILITY or symbol in SENTIMENT or is_option_series(symbol):
        return None
    return OTHER if symbol in NON_EQUITY else EQUITY


def waits_for_context(symbol: str, dates: np.ndarray, context: Context) -> bool:
    """An equity with no VIX known at its last day: its reading waits for the context
    series, not for more bars of its own."""
    return asset_class(symbol) == EQUITY and bool(np.isnan(context.aligned("VIX", dates[-1:])).all())


def long_run_vol(close: np.ndarray) -> float:
    """The median 21-session volatility of daily log returns over `close`."""
    return float(np.nanmedian(rolling.std(rolling.diff(np.log(close)), VOL_WINDOW)))


def observations(dates: np.ndarray, close: np.ndarray, context: Context, scale: float,
                 equity: bool) -> np.ndarray:
    """(T, 2 or 4) one row per day of `close`; NaN where a window has not filled (or VIX
    is not known at the day)."""
    r = rolling.diff(np.log(close))
    cols = [r / scale, np.log(rolling.std(r, VOL_WINDOW) / scale)]
    if equity:
        log_vix = np.log(context.aligned("VIX", dates))
        cols += [log_vix, log_vix - rolling.lag(log_vix, TREND)]
    return np.column_stack(cols)


@dataclass(frozen=True)
class RegimeBook:
    models: dict[str, RegimeModel]  # by asset class
    scales: dict[str, float]  # each fitted symbol's long-run daily volatility
    fitted_to: str

    def _observed(self, symbol: str, dates: np.ndarray, close: np.ndarray, context: Context,
                  tail: int | None = None) -> tuple[RegimeModel, np.ndarray, np.ndarray] | None:
        """The symbol's model, its valid observations and their days (of the last `tail`
        days only, when given: their observations need no more bars than that)."""
        cls = asset_class(symbol)
        if cls is None or cls not in self.models or len(close) <= VOL_WINDOW + 1:
            return None
        scale = self.scales.get(symbol) or long_run_vol(close)
        if tail is not None:
            dates, close = dates[-(tail + LOOKBACK):], close[-(tail + LOOKBACK):]
        obs = observations(dates, close, context, scale, cls == EQUITY)
        ok = np.isfinite(obs).all(axis=1)
        return self.models[cls], obs[ok], dates[ok]

    def current(self, symbol: str, dates: np.ndarray, close: np.ndarray, context: Context) -> RegimeInfo | None:
        """The symbol's regime on its last day, from its days up to then; None when the
        window is too short, or (an equity) VIX is not in the context."""
        read = self.reading(symbol, dates, close, context)
        return None if read is None else read[0]

    def reading(self, symbol: str, dates: np.ndarray, close: np.ndarray,
                context: Context) -> tuple[RegimeInfo, np.ndarray] | None:
        """(the regime on the last day, the filtered state probabilities (S,) behind it)."""
        seen = self._observed(symbol, dates, close, context)
        if seen is None or len(seen[1]) < MIN_DAYS or seen[2][-1] != dates[-1]:
            return None
        model, obs, _ = seen
        states = model.last(obs)
        return _info(model, states), states

    def step(self, symbol: str, dates: np.ndarray, close: np.ndarray, context: Context,
             before: np.ndarray) -> tuple[RegimeInfo, np.ndarray] | None:
        """The reading of the last day from the day before's state probabilities and the
        last day's observation only: the filter one step on, at a fraction of the cost."""
        seen = self._observed(symbol, dates, close, context, tail=1)
        if seen is None or len(seen[1]) == 0 or seen[2][-1] != dates[-1] or len(before) != seen[0].hmm.n_components:
            return None
        model, obs, _ = seen
        states = model.step(np.asarray(before), obs[-1])
        return _info(model, states), states

    def path(self, symbol: str, dates: np.ndarray, close: np.ndarray, context: Context) -> pd.DataFrame:
        """Each day's filtered regime (date, regime, confidence, and a column per regime)."""
        seen = self._observed(symbol, dates, close, context)
        if seen is None or len(seen[1]) == 0:
            return pd.DataFrame(columns=["date", "regime", "confidence"])
        model, obs, days = seen
        probs = pd.DataFrame([model.by_regime(p) for p in model.filtered(obs)])
        return pd.DataFrame({"date": days, "regime": probs.idxmax(axis=1), "confidence": probs.max(axis=1),
                             **{c: probs[c] for c in probs}})

    def to_dict(self) -> dict:
        return {"format": "regime-book-1", "fitted_to": self.fitted_to, "scales": self.scales,
                "models": {cls: m.to_dict() for cls, m in self.models.items()}}

    @classmethod
    def from_dict(cls, d: dict) -> "RegimeBook":
        if d.get("format") != "regime-book-1":
            raise ValueError("not a regime book (a market-only model from before per-symbol regimes); "
                             "refit it with `tft-forecast fit-regimes`")
        return cls({k: RegimeModel.from_dict(m) for k, m in d["models"].items()}, d["scales"], d["fitted_to"])


def _info(model: RegimeModel, states: np.ndarray) -> RegimeInfo:
    probs = model.by_regime(states)
    name = max(probs, key=probs.get)
    return RegimeInfo(name=name, confidence=probs[name], probabilities=probs)


def panel_paths(book: RegimeBook, panel: pd.DataFrame, context: Context) -> pd.DataFrame:
    """(symbol, date, regime): every symbol's filtered regime on each of its days."""
    parts = []
    for symbol, g in panel.sort_values("date").groupby("symbol"):
        path = book.path(symbol, g["date"].values.astype("datetime64[D]"), g["close"].values.astype(float), context)
        parts.append(path[["date", "regime"]].assign(symbol=symbol))
    return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=["symbol", "date", "regime"])


def with_regimes(rows: pd.DataFrame, book: RegimeBook, panel: pd.DataFrame, context: Context) -> pd.DataFrame:
    """Rows keyed by (symbol, date) with the symbol's own regime on that day (symbol_regime)
    and the market's (market_regime), each filtered from the days up to it."""
    paths = panel_paths(book, panel, context).assign(date=lambda p: pd.to_datetime(p["date"]))
    market = paths[paths["symbol"] == MARKET][["date", "regime"]].rename(columns={"regime": "market_regime"})
    return (rows.merge(paths.rename(columns={"regime": "symbol_regime"}), on=["symbol", "date"], how="left")
                .merge(market, on="date", how="left"))


def pooled(symbols: list[str], max_series: int, always: tuple[str, ...] = (MARKET,)) -> list[str]:
    """At most `max_series` of `symbols`, evenly spread over their sorted order, with
    `always` among them when present: the series a class's model is fitted on."""
    ordered = sorted(symbols)
    keep = [s for s in always if s in ordered][:max_series]
    rest = [s for s in ordered if s not in keep]
    k = max_series - len(keep)
    if k > 0 and rest:
        keep += [rest[int(i)] for i in np.unique(np.linspace(0, len(rest) - 1, min(k, len(rest))).round())]
    return sorted(keep)


def fit_book(panel: pd.DataFrame, context: Context, end: str, config: RegimeConfig = RegimeConfig()) -> RegimeBook:
    """A model per asset class from the panel's days up to `end`, and every symbol's scale."""
    panel = panel[panel["date"] <= pd.Timestamp(end)]
    context = context.until(np.datetime64(end, "D"))
    series = {s: (g["date"].values.astype("datetime64[D]"), g["close"].values.astype(float))
              for s, g in panel.sort_values("date").groupby("symbol")}
    scales = {s: long_run_vol(close) for s, (_, close) in series.items() if asset_class(s) is not None}
    models = {}
    for cls in (EQUITY, OTHER):
        members = [s for s in scales if asset_class(s) == cls]
        sequences = []
        for s in pooled(members, config.max_series):
            obs = observations(*series[s], context, scales[s], cls == EQUITY)
            sequences.append(obs[np.isfinite(obs).all(axis=1)])
        if sum(map(len, sequences)) >= config.min_days:
            models[cls] = fit(sequences, config)
    return RegimeBook(models, scales, end)


def advance(state: RegimeState | None, symbol: str, as_of, info: RegimeInfo, model_version: str) -> RegimeEvent:
    """The event of a symbol's bar of `as_of` read as `info`, given its state before:
    `change` when the regime is not the state's (or there is no state), else `heartbeat`,
    one session longer when the bar is a new day (a corrected bar for the same day is not)."""
    if state is None or state.regime.name != info.name:
        return RegimeEvent(kind="change", symbol=symbol, as_of=as_of, regime=info, since=as_of, sessions=1,
                           previous=None if state is None else state.regime.name, model_version=model_version)
    sessions = state.sessions + (as_of > state.as_of)
    return RegimeEvent(kind="heartbeat", symbol=symbol, as_of=max(as_of, state.as_of), regime=info,
                       since=state.since, sessions=sessions, previous=state.previous, model_version=model_version)
