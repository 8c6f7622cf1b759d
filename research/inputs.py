"""What the research commands read besides a data folder: the settings, a model by name
('default', a file or a registry version), the regime book beside it, and a backtest's
rows with the outcomes they are scored on."""
from pathlib import Path

from lifecycle.settings import LifecycleSettings


def artifact_path_of(settings: LifecycleSettings, model: str) -> Path:
    from lifecycle.store import artifact_path_of as lookup  # the registry, for a version name
    return lookup(settings, model)


def artifact(settings: LifecycleSettings, model: str):
    from tft.artifact import load
    return load(artifact_path_of(settings, model))


def regime_book(settings: LifecycleSettings, model: str):
    """The regime book saved beside a model's artifact, or None where it has none."""
    from inference.models import regime_book_of
    return regime_book_of(artifact_path_of(settings, model))


def backtest_rows(backtest_csv: Path, panel, vix=None):
    """A backtest's rows with the outcomes (and the baselines' inputs) they are scored on."""
    import pandas as pd

    from tft.evaluate import attach_outcomes
    return attach_outcomes(pd.read_csv(backtest_csv, parse_dates=["date"]), panel, vix)
