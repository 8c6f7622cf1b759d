"""The copula beside a model, as a full retrain fits it: on the model's own forecasts'
outcomes, for the symbols it was trained on, stored beside the artifact and read back."""
import shutil
from datetime import date

import numpy as np

from features.data import load
from inference.config import InferenceConfig
from inference.dependence import DOFS, load as load_beside, save
from lifecycle.dependence import fit
from tft.artifact import load as load_artifact


def test_a_fit_on_the_served_models_own_outcomes_is_stored_beside_it_and_read_back(data_dir, tmp_path):
    path = InferenceConfig().default_artifact
    art = load_artifact(path)
    dep = fit(load(data_dir), art, "2023-06-30", sessions=30)
    assert dep.as_of == date(2023, 6, 30) and dep.model_version == art.version and dep.dof in DOFS
    assert set(dep.symbols) <= set(art.spec.symbols) and len(dep.symbols) > 40
    for h in art.spec.horizons:
        c = dep.correlation[h]
        assert c.shape == (len(dep.symbols), len(dep.symbols)) and np.allclose(np.diag(c), 1)
        assert np.linalg.eigvalsh(c).min() > 0 and 0 <= dep.shrinkage[h] <= 1
    at = {s: i for i, s in enumerate(dep.symbols)}
    c1 = dep.correlation[1]
    assert c1[at["SPY"], at["QQQ"]] > c1[at["SPY"], at["GLD"]]  # the market's own, above gold's
    copy = tmp_path / "m.pt"
    shutil.copyfile(path, copy)
    save(dep, copy)
    back = load_beside(copy)
    assert back.symbols == dep.symbols and back.dof == dep.dof
    assert np.allclose(back.correlation[5], dep.correlation[5], atol=1e-5)
