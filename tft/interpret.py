"""What a trained TFT looks at, read off its own outputs (no hooks, no gradients).

Per-horizon variable importance weights the encoder's selection weights at each past
day by how much the forecast for that horizon attends to that day:
    importance_h(v) = mean over samples of sum_t attention_h(t) * selection_t(v),
renormalised over the encoder's share of attention. Summed by group it gives group
importance. The temporal pattern is the mean attention of each horizon over the days.
"""
from dataclasses import dataclass

import numpy as np
import pandas as pd
import torch
from tqdm import tqdm

from features.catalog import GROUPS
from features.data import MarketData
from tft.artifact import Artifact
from tft.data import InputSpec, SymbolSeries, make_inputs, market_series, sample_days
from tft.predict import encoder_attention, forward


@dataclass(frozen=True)
class Interpretation:
    importance: pd.DataFrame  # symbol ('*' = all), horizon, feature, feature_group, importance
    attention: pd.DataFrame  # horizon, lag (days before the origin; <0 = decoder days), weight


def interpret(art: Artifact, series: list[SymbolSeries], idx: np.ndarray, batch_size: int = 256,
              progress: bool = True) -> Interpretation:
    E = art.spec.encoder_length
    per_sample, symbols, attn_sum = [], [], 0.0
    for i in tqdm(range(0, len(idx), batch_size), desc="interpret", disable=not progress):
        chunk = idx[i:i + batch_size]
        inputs, _ = make_inputs(series, chunk, art.spec, art.scaler)
        out = forward(art.model, inputs)
        attn = out.attention.float()[:, art.model.horizon_index]  # (B, Z, E + H)
        enc = encoder_attention(out, art.model.horizon_index)  # (B, Z, E)
        sel = out.encoder_weights.float()  # (B, E, V)
        per_sample.append(torch.einsum("bze,bev->bzv", enc, sel).cpu().numpy())  # (B, Z, V)
        attn_sum = attn_sum + attn.sum(0).cpu().numpy()
        symbols += [series[s].symbol for s, _ in chunk]
    imp = np.concatenate(per_sample)  # (N, Z, V)
    symbols = np.asarray(symbols)
    frames = [_frame("*", imp.mean(0), art.spec)]
    frames += [_frame(s, imp[symbols == s].mean(0), art.spec) for s in np.unique(symbols)]
    H = art.spec.decoder_length
    lags = np.concatenate([np.arange(E - 1, -1, -1), -np.arange(1, H + 1)])
    mean_attn = attn_sum / len(idx)  # (Z, E + H)
    attention = pd.DataFrame([{"horizon": h, "lag": int(lag), "weight": float(w)}
                              for z, h in enumerate(art.spec.horizons)
                              for lag, w in zip(lags, mean_attn[z])])
    return Interpretation(pd.concat(frames, ignore_index=True), attention)


def interpret_range(data: MarketData, art: Artifact, start: str, end: str | None = None,
                    progress: bool = True, symbols: list[str] | None = None) -> Interpretation:
    """`interpret` on every (symbol, day) with an origin from `start` to `end` (the data's
    end), of the traded symbols or `symbols`."""
    series = market_series(data, end, symbols)
    idx = sample_days(series, art.spec, np.datetime64(start, "D"),
                      np.datetime64(end, "D") if end else None, need_target=False)
    return interpret(art, series, idx, progress=progress)


def _frame(symbol: str, imp: np.ndarray, spec: InputSpec) -> pd.DataFrame:
    """imp (Z, V) -> long rows."""
    return pd.DataFrame([{"symbol": symbol, "horizon": h, "feature": f, "feature_group": GROUPS[f],
                          "importance": float(imp[z, v])}
                         for z, h in enumerate(spec.horizons) for v, f in enumerate(spec.input_names)])


def plot(interp: Interpretation, out_dir, horizon: int = 5, top: int = 20) -> list:
    """Bar charts of feature and group importance, and the attention pattern, as PNGs."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    g = interp.importance[(interp.importance["symbol"] == "*") & (interp.importance["horizon"] == horizon)]
    paths = []
    fig, (a, b) = plt.subplots(1, 2, figsize=(12, 5), gridspec_kw={"width_ratios": [2, 1]})
    t = g.nlargest(top, "importance")[::-1]
    a.barh(t["feature"], t["importance"])
    a.set_title(f"Top {top} inputs, horizon {horizon}")
    groups = g.groupby("feature_group")["importance"].sum().sort_values()
    b.barh(groups.index, groups.values)
    b.set_title("By group")
    paths.append(out_dir / f"importance_h{horizon}.png")
    fig.savefig(paths[-1], dpi=110, bbox_inches="tight")
    plt.close(fig)
    fig, ax = plt.subplots(figsize=(9, 4))
    for h, d in interp.attention.groupby("horizon"):
        d = d[d["lag"] >= 0].sort_values("lag")
        ax.plot(d["lag"], d["weight"], label=f"{h}-day forecast")
    ax.set_xlabel("days before the forecast origin")
    ax.set_ylabel("mean attention")
    ax.set_title("Temporal attention over the encoder")
    ax.invert_xaxis()
    ax.legend()
    paths.append(out_dir / "attention.png")
    fig.savefig(paths[-1], dpi=110, bbox_inches="tight")
    plt.close(fig)
    return paths
