"""Which forecaster serves: every model answers the same `predict` on windows of bars."""
from typing import Protocol

from features.window import BarWindow
from inference.baseline import RandomWalkForecaster
from inference.config import InferenceConfig
from inference.distribution import Distribution


class Forecaster(Protocol):
    version: str
    min_history: int  # bars a window needs before the model can score it

    def predict(self, windows: list[BarWindow]) -> list[Distribution]:
        """One distribution per window, in order; called once per micro-batch."""


class ModelNotFound(LookupError):
    pass


def load_forecaster(config: InferenceConfig) -> Forecaster:
    if config.model in ("baseline", "default"):
        return RandomWalkForecaster(config.baseline_vol_window)
    raise ModelNotFound(f"unknown model {config.model!r}; known: baseline, default")
