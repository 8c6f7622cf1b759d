"""Every model input, by name, with its group and meaning: the one table of features.

Groups let importance be reported per group as well as per feature. `known` features
(calendar) are known for future days and feed the TFT decoder; the rest are observed
up to the forecast's origin only.
"""
from dataclasses import dataclass


@dataclass(frozen=True)
class Feature:
    name: str
    group: str
    description: str
    known: bool = False


def _group(group: str, rows: list[tuple[str, str]], known: bool = False) -> list[Feature]:
    return [Feature(name, group, text, known) for name, text in rows]


FEATURES: tuple[Feature, ...] = tuple(
    _group("technical", [
        ("rsi_14", "Wilder RSI over 14 sessions, /100"),
        ("macd", "MACD line (EMA12 - EMA26), / close"),
        ("macd_signal", "EMA9 of the MACD line, / close"),
        ("macd_hist", "MACD line minus signal, / close"),
        ("bb_pct_b", "position of close within the 20-day, 2-sigma Bollinger Bands"),
        ("bb_width", "Bollinger band width / middle band"),
        ("stoch_k", "slow stochastic %K (14, 3), /100"),
        ("stoch_d", "slow stochastic %D (3), /100"),
        ("atr_14", "Wilder average true range over 14 sessions, / close"),
        ("willr_14", "Williams %R over 14 sessions, /100"),
        ("cci_20", "commodity channel index over 20 sessions, /100"),
        ("adx_14", "Wilder average directional index over 14 sessions, /100"),
        ("obv_slope_20", "on-balance volume added over 20 sessions / volume traded"),
        ("mfi_14", "money flow index over 14 sessions, /100"),
    ])
    + _group("trend", [
        *((f"dist_ma_{n}", f"close / {n}-day simple moving average - 1") for n in (5, 10, 20, 50, 100, 200)),
        *((f"ret_{n}", f"log return over {n} sessions") for n in (1, 5, 10, 21, 63, 126, 252)),
        ("mom_252_21", "12-1 momentum: log return from 252 to 21 sessions ago"),
        ("ma_cross_5_20", "5-day / 20-day moving average - 1"),
        ("ma_cross_20_50", "20-day / 50-day moving average - 1"),
        ("ma_cross_50_200", "50-day / 200-day moving average - 1"),
    ])
    + _group("regime", [
        ("trend_r2_63", "R^2 of a line through 63 sessions of log price, signed by its slope"),
        ("up_share_21", "share of up days in the last 21 sessions"),
        ("autocorr_63", "lag-1 autocorrelation of daily returns over 63 sessions"),
        ("variance_ratio_5_126", "variance of 5-day over 5x 1-day returns, 126 sessions (1 = random walk)"),
        ("drawdown_252", "close / highest close of 252 sessions - 1"),
        ("vol_percentile_252", "percentile of 21-day realized vol within its last 252 sessions"),
    ])
    + _group("volatility", [
        *((f"rv_{n}", f"close-to-close realized volatility over {n} sessions, annualised") for n in (5, 10, 21, 63)),
        ("parkinson_21", "Parkinson high-low volatility over 21 sessions, annualised"),
        ("garman_klass_21", "Garman-Klass OHLC volatility over 21 sessions, annualised"),
        ("rogers_satchell_21", "Rogers-Satchell drift-free volatility over 21 sessions, annualised"),
        ("yang_zhang_21", "Yang-Zhang volatility with overnight jumps, 21 sessions, annualised"),
        ("vol_of_vol_63", "standard deviation of log 21-day realized vol over 63 sessions"),
        ("vol_ratio_5_63", "5-day / 63-day realized volatility"),
    ])
    + _group("microstructure", [
        ("volume_z_21", "z-score of log volume against its 21 sessions"),
        ("volume_trend_5_21", "mean volume of 5 / of 21 sessions - 1"),
        ("log_dollar_volume_21", "log mean dollar volume over 21 sessions"),
        ("amihud_21", "log Amihud illiquidity (|return| per dollar traded x 1e9), 21 sessions"),
        ("corwin_schultz_21", "Corwin-Schultz high-low spread estimate, mean of 21 sessions"),
        ("roll_spread_63", "Roll spread estimate from return autocovariance, 63 sessions"),
        ("overnight_gap", "log open / previous close"),
        ("intraday_range", "log high / low"),
        ("close_location", "close location value: -1 at the low, +1 at the high"),
    ])
    + _group("cross_asset", [
        ("vix_level", "CBOE VIX / 100"),
        ("vix_change_5", "log change of VIX over 5 sessions"),
        ("vix_term_9d", "VIX9D / VIX (above 1: short-term stress)"),
        ("vix_term_3m", "VIX / VIX3M (above 1: inverted term structure)"),
        ("vvix", "CBOE VVIX / 100 (from 2007)"),
        ("skew", "CBOE SKEW / 100 - 1"),
        ("pcr_total", "CBOE total put/call ratio (from 2019-10)"),
        ("pcr_equity", "CBOE equity put/call ratio (from 2019-10)"),
        ("fed_funds", "effective fed funds rate, one session late (published next morning)"),
        ("fed_funds_change_63", "change of the fed funds rate over 63 sessions"),
        ("corr_spy_63", "correlation of daily returns with SPY over 63 sessions"),
        ("beta_spy_63", "beta of daily returns on SPY over 63 sessions"),
        ("sector_rel_21", "21-day log return minus that of the sector ETF (SPY where none)"),
        ("tlt_ret_21", "21-day log return of TLT (long Treasuries)"),
        ("gld_ret_21", "21-day log return of GLD (gold)"),
        ("uup_ret_21", "21-day log return of UUP (US dollar)"),
    ])
    + _group("options", [
        ("iv_atm", "at-the-money implied volatility of the nearest expiry (7+ days)"),
        ("iv_skew_25d", "25-delta put minus 25-delta call implied volatility, nearest expiry"),
        ("iv_term_slope", "ATM implied volatility of a ~3-month expiry minus the nearest"),
        ("iv_rv_ratio", "ATM implied over 21-day realized volatility: implied vs realized move"),
    ])
    + _group("calendar", [
        ("day_of_week", "Monday 0 .. Friday 1"),
        ("day_of_month", "(day of month - 1) / 30"),
        ("month", "(month - 1) / 11"),
        ("sessions_to_month_end", "NYSE sessions left in the month / 22"),
        ("pre_holiday", "1 when an NYSE holiday follows"),
        ("post_holiday", "1 when an NYSE holiday precedes"),
    ], known=True)
)

NAMES: tuple[str, ...] = tuple(f.name for f in FEATURES)
GROUPS: dict[str, str] = {f.name: f.group for f in FEATURES}
KNOWN: tuple[str, ...] = tuple(f.name for f in FEATURES if f.known)
OBSERVED: tuple[str, ...] = tuple(f.name for f in FEATURES if not f.known)
assert len(set(NAMES)) == len(NAMES), "feature names must be unique"
