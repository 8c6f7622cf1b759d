"""Distributed data parallel on two CPU processes (torchrun, gloo) trains the model one
process trains: the same weights within float tolerance, on real bars."""
import os
import subprocess
import sys
from pathlib import Path

import torch

from tft import artifact
from tft.model import TemporalFusionTransformer

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "tests" / "tft" / "ddp_train.py"


def run(args: list[str], out: Path, data_dir) -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1"}
    done = subprocess.run([sys.executable, *args, str(SCRIPT), str(out), str(data_dir)], env=env,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]


def test_two_processes_train_the_model_one_does(tmp_path, data_dir):
    run([], tmp_path / "one.pt", data_dir)
    run(["-m", "torch.distributed.run", "--standalone", "--nproc-per-node", "2"], tmp_path / "two.pt", data_dir)
    one, two = artifact.load(tmp_path / "one.pt"), artifact.load(tmp_path / "two.pt")
    assert two.meta["processes"] == 2 and one.meta["processes"] == 1
    a, b = one.model.state_dict(), two.model.state_dict()
    assert a.keys() == b.keys()
    for k in a:
        assert torch.allclose(a[k], b[k], rtol=1e-4, atol=1e-5), k
    for h1, h2 in zip(one.meta["history"], two.meta["history"], strict=True):
        assert abs(h1["val_total"] - h2["val_total"]) < 1e-5
    torch.manual_seed(one.meta["train_config"]["seed"])
    untrained = TemporalFusionTransformer(one.config).state_dict()
    assert any(not torch.allclose(untrained[k], a[k]) for k in a)  # the steps did move the weights


def test_each_process_takes_its_own_share_of_the_batch():
    import numpy as np
    import pytest

    from tft.distributed import World
    batch = np.arange(16)
    shares = [World(rank, 2).part(batch) for rank in (0, 1)]
    assert sorted(np.concatenate(shares)) == list(batch) and len(shares[0]) == len(shares[1]) == 8
    assert list(World().part(batch)) == list(batch)
    with pytest.raises(ValueError, match="does not split"):
        World(0, 3).part(batch)
