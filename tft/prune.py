"""Importance-based pruning, judged walk-forward.

A trained model's past-only features are ranked by the importance it gave them on its
validation year (tft/interpret.py: selection weights times attention, read off the
model's outputs, so no outcome of that year goes into the ranking). The same model is
trained again on the top K for each K asked, with the same settings and seed, and each
is scored beside the full model on the validation year's every origin, as `evaluate`
scores them. The smallest set no worse than the full model at every horizon is the one
to keep; where none is, the full set stays. The years after the validation year are not
read: a backtest of the kept model on them is the walk-forward check.
"""
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import yaml
from tqdm import tqdm

from features.catalog import GROUPS
from features.data import MarketData
from tft.artifact import Artifact
from tft.data import market_series, sample_days
from tft.gate import scores
from tft.interpret import interpret
from tft.train import TrainConfig, train


@dataclass(frozen=True)
class PruneConfig:
    keep: tuple[int, ...] = (20, 40)  # feature counts to try, each below the model's own
    samples: int = 4096  # validation origins the importance is read on
    tolerance: float = 0.0  # a smaller set's pinball may exceed the full set's by this share


@dataclass(frozen=True)
class Pruning:
    ranking: pd.DataFrame  # feature, feature_group, importance (mean over horizons), descending
    scores: pd.DataFrame  # features (count), horizon, pinball, rw_pinball, cover_68, cover_95, version
    kept: tuple[str, ...]  # the features to train on from now: the smallest set not worse
    reason: str


def rank(data: MarketData, art: Artifact, samples: int, seed: int = 0) -> pd.DataFrame:
    """The model's past-only features by their importance on its validation year."""
    start, end = (np.datetime64(d, "D") for d in art.meta["validation_range"])
    series = market_series(data, end, list(art.spec.symbols))
    idx = sample_days(series, art.spec, start, end, need_target=False)
    idx = idx[np.random.default_rng(seed).permutation(len(idx))[:samples]]
    imp = interpret(art, series, idx).importance
    imp = imp[(imp["symbol"] == "*") & imp["feature"].isin(art.spec.observed)]
    mean = imp.groupby("feature")["importance"].mean().sort_values(ascending=False)
    return pd.DataFrame({"feature": mean.index, "feature_group": [GROUPS[f] for f in mean.index],
                         "importance": mean.values})


def prune(data: MarketData, art: Artifact, out_dir: Path, config: PruneConfig = PruneConfig(),
          train_overrides: dict | None = None) -> Pruning:
    """Trains a model per count in `config.keep` into out_dir/top-K.pt and writes the
    ranking, the scores, the verdict and features.yaml (for `train --config`) there.
    `train_overrides`: TrainConfig fields to change from the model's own (device)."""
    if bad := [k for k in config.keep if not 0 < k < len(art.spec.observed)]:
        raise ValueError(f"keep {bad}: a pruned set has 1 to {len(art.spec.observed) - 1} features")
    out_dir.mkdir(parents=True, exist_ok=True)
    ranking = rank(data, art, config.samples)
    start, end = art.meta["validation_range"]
    trained = dict(art.meta["train_config"], **(train_overrides or {}))
    rows = [_scored(data, art, start, end, len(art.spec.observed))]
    for k in tqdm(sorted(config.keep, reverse=True), desc="pruned models", unit="model"):
        top = tuple(ranking["feature"].iloc[:k])
        cfg = TrainConfig(**{**trained, "features": top, "tag": "-".join(filter(None, (trained.get("tag"), f"top{k}")))})
        rows.append(_scored(data, train(data, out_dir / f"top-{k}.pt", art.config, cfg), start, end, k))
    table = pd.concat(rows, ignore_index=True)
    kept, reason = _verdict(table, ranking, len(art.spec.observed), config.tolerance)
    result = Pruning(ranking, table, kept, reason)
    _write(result, art, out_dir)
    return result


def _scored(data, art: Artifact, start: str, end: str, count: int) -> pd.DataFrame:
    s = scores(data, art, start, end, None).reset_index()
    return s[["horizon", "n", "pinball", "rw_pinball", "cover_68", "cover_95"]].assign(features=count, version=art.version)


def relative(scores: pd.DataFrame) -> pd.DataFrame:
    """(feature counts, horizons): each set's pinball ÷ the full set's (the largest count)."""
    wide = scores.pivot(index="features", columns="horizon", values="pinball")
    return wide / wide.loc[wide.index.max()]


def _verdict(table: pd.DataFrame, ranking: pd.DataFrame, full: int, tolerance: float) -> tuple[tuple[str, ...], str]:
    smaller = relative(table).drop(index=full)
    for k, ratios in smaller.iterrows():  # fewest features first
        if (ratios <= 1 + tolerance).all():
            return tuple(ranking["feature"].iloc[:k]), (
                f"the top {k} features are no worse than all {full} at every horizon on the validation year")
    return tuple(ranking["feature"]), "every smaller set is worse at some horizon (pinball ÷ full, worst: " + \
        ", ".join(f"top {k} {r:.4f}" for k, r in smaller.max(axis=1).items()) + "); all features stay"


def _write(p: Pruning, art: Artifact, out_dir: Path) -> None:
    p.ranking.to_csv(out_dir / "ranking.csv", index=False, float_format="%.6f")
    p.scores.to_csv(out_dir / "scores.csv", index=False)
    (out_dir / "features.yaml").write_text(
        f"# tft-forecast prune of {art.version}: {p.reason}\n"
        + yaml.safe_dump({"training_config": {"features": list(p.kept)}}, sort_keys=False))
    plot(p, out_dir / "pruning.png")


def plot(p: Pruning, path: Path) -> Path:
    """Left: the ranking with the counts tried. Right: validation pinball of each set ÷ the
    full set's, per horizon (below 1: the smaller set is better)."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (a, b) = plt.subplots(1, 2, figsize=(13, max(4.0, 0.16 * len(p.ranking))),
                               gridspec_kw={"width_ratios": [3, 2]})
    r = p.ranking.iloc[::-1]
    a.barh(r["feature"], r["importance"], color="tab:blue")
    a.tick_params(axis="y", labelsize=6)
    full = p.scores["features"].max()
    for k in sorted(set(p.scores["features"]) - {full}):
        a.axhline(len(p.ranking) - k - 0.5, color="tab:red", lw=0.8, ls="--")
        a.text(r["importance"].max(), len(p.ranking) - k - 0.5, f"top {k}", color="tab:red", fontsize=7,
               ha="right", va="bottom")
    a.set_xscale("log")  # one feature often holds half the weight; the rest would be invisible
    a.set_xlabel("importance on the validation year (mean over horizons, log scale)")
    ratios = relative(p.scores)
    for k, row in ratios.iterrows():
        b.plot(row.index, row.values, "o-", label=f"{k} features")
    b.axhline(1.0, color="grey", lw=0.8)
    b.set_xticks(list(ratios.columns))
    b.set_xlabel("horizon (sessions)")
    b.set_ylabel("validation pinball ÷ all features'")
    b.legend(fontsize=8)
    b.set_title(p.reason, fontsize=8, wrap=True)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
