"""train --config: YAML sections read into the two configs, every key documented in the
documentation (docs/research.md), and a key that is not one refused by name."""
import re

import pytest

from tests.helpers import documentation
from tft.config import TFTConfig
from tft.config_file import keys, read
from tft.train import TrainConfig



def test_the_sections_are_read_into_the_configs(tmp_path):
    f = tmp_path / "train.yaml"
    f.write_text("model_config: {hidden_size: 16, num_heads: 2, horizons: [1, 5, 10, 21]}\n"
                 "training_config: {end: '2021-12-31', epochs: 3, lr: 0.0005}\n")
    model, training = read(f)
    assert TFTConfig(**model).hidden_size == 16 and TFTConfig(**model).horizons == (1, 5, 10, 21)
    assert TrainConfig(**training) == TrainConfig(end="2021-12-31", epochs=3, lr=0.0005)


@pytest.mark.parametrize("text, says", [
    ("model_config: {hiden_size: 16}\n", "model_config has no ['hiden_size']"),
    ("training_config: {n_symbols: 3}\n", "training_config has no ['n_symbols']"),
    ("model_config: {n_symbols: 3}\n", "model_config has no ['n_symbols']"),  # the data fixes it
    ("optimizer: {lr: 1}\n", "the sections are"),
])
def test_a_key_that_is_not_one_is_refused_by_name(tmp_path, text, says):
    f = tmp_path / "bad.yaml"
    f.write_text(text)
    with pytest.raises(ValueError, match=re.escape(says)):
        read(f)


def test_every_key_is_documented():
    table = dict(re.findall(r"^\| `(\w+)` \| (model_config|training_config) \|", documentation(), re.M))
    for section, kind in (("model_config", TFTConfig), ("training_config", TrainConfig)):
        for k in keys(kind):
            assert table.get(k) == section, f"{section}.{k} is not in the documentation's table"
