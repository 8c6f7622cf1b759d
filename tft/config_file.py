"""`tft-forecast train --config FILE`: the model's and the training's settings from YAML,

    model_config:     {hidden_size: 64, num_heads: 4, encoder_length: 126, dropout: 0.1}
    training_config:  {end: "2021-12-31", epochs: 30, batch_size: 256, lr: 0.0005}

each key a field of TFTConfig or TrainConfig (every one is listed, with its meaning, in
the README's table). A key that is neither is refused by name, so a
typo cannot train the defaults in silence; what the data fixes (input counts) is not a
key.
"""
from dataclasses import fields
from pathlib import Path

import yaml

from tft.config import TFTConfig
from tft.train import TrainConfig

FILLED_BY_DATA = {"n_observed", "n_known", "n_symbols", "n_asset_classes"}
SECTIONS = {"model_config": TFTConfig, "training_config": TrainConfig}


def keys(kind) -> list[str]:
    return [f.name for f in fields(kind) if f.name not in FILLED_BY_DATA]


def read(path: Path) -> tuple[dict, dict]:
    """(model_config overrides, training_config overrides); ValueError for what is not one."""
    raw = yaml.safe_load(Path(path).read_text()) or {}
    if not isinstance(raw, dict) or (extra := set(raw) - set(SECTIONS)):
        raise ValueError(f"{path}: the sections are {sorted(SECTIONS)}; not {sorted(extra) if isinstance(raw, dict) else raw}")
    out = []
    for name, kind in SECTIONS.items():
        section = raw.get(name) or {}
        if unknown := sorted(set(section) - set(keys(kind))):
            raise ValueError(f"{path}: {name} has no {unknown}; its keys are {keys(kind)}")
        out.append({k: tuple(v) if isinstance(v, list) else v for k, v in section.items()})
    return out[0], out[1]
