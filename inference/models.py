"""Which forecaster serves: every model answers the same `predict` on windows of bars."""
import logging
from functools import partial
from pathlib import Path
from typing import Protocol

import numpy as np
import orjson

from features.cross_asset import Context
from features.window import BarWindow
from inference.baseline import RandomWalkForecaster
from inference.config import InferenceConfig
from inference.dependence import Dependence, load as load_dependence_beside
from inference.distribution import Distribution
from regime.book import RegimeBook
from schemas import HORIZONS, QUANTILES

log = logging.getLogger(__name__)
DEFAULT_ARTIFACT = InferenceConfig.default_artifact  # the checkout's

Item = tuple[BarWindow, Context]  # a symbol's window and the cross-asset context beside it


class Forecaster(Protocol):
    version: str
    min_history: int  # bars a window needs before the model can score it
    horizons: tuple[int, ...]  # of each Distribution it returns
    quantiles: tuple[float, ...]
    input_names: tuple[str, ...]  # of Distribution.selection; empty for a model without attention

    def predict(self, items: list[Item]) -> list[Distribution]:
        """One distribution per item, in order; called once per micro-batch."""

    def describe(self) -> dict:
        """What an operator asks of the served model: its kind, source and how it was made."""


class ModelNotFound(LookupError):
    pass


def resolve_artifact(model: str, default: Path = DEFAULT_ARTIFACT) -> Path:
    """'default' is the artifact `make run` serves (`default`); anything else is a path."""
    path = default if model == "default" else Path(model)
    if not path.is_file():
        raise ModelNotFound(f"no model artifact at {path}; train one with `tft-forecast train` "
                            f"or serve TFT_MODEL=baseline")
    return path


class TFTForecaster:
    """A trained Temporal Fusion Transformer behind the forecaster interface."""

    def __init__(self, path: Path, device: str = "cpu", runtime: str = "torch", cuda_graphs: bool = False):
        from tft.artifact import load  # torch loads only when a TFT serves
        from tft.runtime import choose_runtime
        self.path = path
        self.artifact = load(path, device)
        # What runs the forward pass, inputs -> TFTOutput: onnxruntime on the graph beside
        # the artifact, torch replaying CUDA graphs, or torch eager.
        self.runner = choose_runtime(runtime, self.artifact, path, next(self.artifact.model.parameters()).device)
        self.runtime = "onnx"
        if self.runner is None and cuda_graphs:
            from tft.graphs import GraphedModel
            self.runner, self.runtime = GraphedModel(self.artifact.model), "torch+cuda-graphs"
        elif self.runner is None:
            from tft.predict import forward
            self.runner, self.runtime = partial(forward, self.artifact.model), "torch"
        self.input_names = self.artifact.spec.input_names
        self.version = self.artifact.version
        self.min_history = self.artifact.spec.min_history
        self.horizons = tuple(self.artifact.spec.horizons)
        self.quantiles = tuple(self.artifact.config.quantiles)

    def describe(self) -> dict:
        meta = self.artifact.meta
        return {"kind": "tft", "artifact": str(self.path), "git_commit": meta.get("git_commit"),
                "train_range": meta["train_range"], "validation_range": meta["validation_range"],
                "horizons": list(self.artifact.spec.horizons),
                "interval_calibration": meta.get("calibration"), "runtime": self.runtime}

    def predict(self, items: list[Item]) -> list[Distribution]:
        from tft.data import make_inputs, series_from_window
        from tft.predict import calibrated
        series = [series_from_window(w, ctx) for w, ctx in items]
        idx = np.array([[i, len(s.dates) - 1] for i, s in enumerate(series)], dtype=np.int64)
        art = self.artifact
        inputs, scales = make_inputs(series, idx, art.spec, art.scaler)
        out = self.runner(inputs)
        fc = calibrated(out, scales, art.model.horizon_index.to(out.point.device), art.calibration,
                        art.config.quantiles)
        horizons = art.spec.horizons
        return [Distribution(horizons, *(a[i].astype(np.float64) for a in (
                    fc.quantiles, fc.point, fc.vol, fc.prob_up, fc.attention, fc.selection)))
                for i in range(len(items))]


def regime_path(model_path: Path) -> Path:
    """Where the regime model fitted with a TFT artifact lives: beside it."""
    return model_path.with_suffix(".regime.json")


def regime_book_of(model_path: Path) -> RegimeBook | None:
    """The regime book saved beside a model's artifact, or None where it has none."""
    path = regime_path(model_path)
    return RegimeBook.from_dict(orjson.loads(path.read_bytes())) if path.is_file() else None


def save_regime_book(book: RegimeBook, model_path: Path) -> Path:
    path = regime_path(model_path)
    path.write_bytes(orjson.dumps(book.to_dict(), option=orjson.OPT_INDENT_2))
    return path


def load_regime(config: InferenceConfig) -> RegimeBook | None:
    """The regime book fitted with the served TFT, if there is one it can read: without
    one, results carry no regimes (and the log says why)."""
    if config.model == "baseline":
        return None
    path = resolve_artifact(config.model, config.default_artifact)
    try:
        return regime_book_of(path)
    except ValueError as e:
        log.warning("%s: %s; forecasts go without regimes", regime_path(path), e)
        return None


def load_dependence(config: InferenceConfig) -> Dependence | None:
    """The copula fitted beside the served TFT, if it has one: without it, books are joined
    as if their symbols were independent (and their answers say so)."""
    if config.model == "baseline":
        return None
    path = resolve_artifact(config.model, config.default_artifact)
    try:
        return load_dependence_beside(path)
    except (ValueError, KeyError) as e:
        log.warning("%s: %s; books are joined as independent", path, e)
        return None


class ContractError(RuntimeError):
    """The served model or the settings cannot give what the wire contract promises."""


def check_contract(forecaster: Forecaster, window_bars: int) -> None:
    """Refuse to serve a model whose outputs the contract and the metrics table cannot hold,
    or one that needs more history than the windows keep."""
    if tuple(forecaster.horizons) != HORIZONS:
        raise ContractError(f"model {forecaster.version} forecasts horizons {list(forecaster.horizons)}; "
                            f"the contract serves {list(HORIZONS)}")
    if tuple(forecaster.quantiles) != QUANTILES:
        raise ContractError(f"model {forecaster.version} predicts quantiles {list(forecaster.quantiles)}; "
                            f"the contract and forecast_metrics hold {list(QUANTILES)}")
    if window_bars < forecaster.min_history:
        raise ContractError(f"TFT_WINDOW_BARS={window_bars} is shorter than the {forecaster.min_history} "
                            f"bars model {forecaster.version} reads; raise it to at least that")


def load_forecaster(config: InferenceConfig) -> Forecaster:
    if config.model == "baseline":
        return RandomWalkForecaster(config.baseline_vol_window)
    return TFTForecaster(resolve_artifact(config.model, config.default_artifact), config.device, config.runtime,
                         config.cuda_graphs)
