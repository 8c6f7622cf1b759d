"""The model as an ONNX graph, served by onnxruntime: every output equal to torch's on
real windows, the runtime a worker serves with chosen as TFT_RUNTIME says, and a
forecast made from the graph and a window with no PyTorch at all."""
import shutil
import subprocess
import sys
from dataclasses import fields

import numpy as np
import onnx
import pytest
import torch

from features.data import load
from inference.models import DEFAULT_ARTIFACT, TFTForecaster
from tft.artifact import load as load_artifact
from tft.data import make_inputs, market_series
from tft.export import INPUTS, OUTPUTS, onnx_path, window_inputs
from tft.model import TFTInputs, TFTOutput
from tft.predict import forward, predict
from tft.runtime import OnnxModel, RuntimeMissing, choose_runtime
from tests.helpers import NO_CONTEXT, window_of

ROOT = DEFAULT_ARTIFACT.parents[1]
SYMBOLS = ["SPY", "AAPL", "TLT", "XLF", "JPM", "GLD", "NVDA"]


@pytest.fixture(scope="module")
def artifact():
    return load_artifact(DEFAULT_ARTIFACT)


@pytest.fixture(scope="module")
def series(data_dir):
    """Real windows: the symbols' features with their cross-asset context, to the last
    day of the data and in the COVID crash."""
    data = load(data_dir)
    return market_series(data, "2023-12-29", SYMBOLS) + market_series(data, "2020-03-16", SYMBOLS)


def real_inputs(artifact, series) -> TFTInputs:
    idx = np.array([[i, len(s.dates) - 1] for i, s in enumerate(series)])
    return make_inputs(series, idx, artifact.spec, artifact.scaler)[0]


def test_the_committed_graph_is_the_default_models_and_names_its_inputs_and_outputs(artifact):
    graph = onnx.load(str(onnx_path(DEFAULT_ARTIFACT)))
    meta = {p.key: p.value for p in graph.metadata_props}
    assert meta["version"] == artifact.version  # `tft-forecast export default` again after retraining it
    assert [i.name for i in graph.graph.input] == list(INPUTS) == [f.name for f in fields(TFTInputs)]
    assert [o.name for o in graph.graph.output] == list(OUTPUTS) == [f.name for f in fields(TFTOutput)]
    assert max(o.version for o in graph.opset_import if o.domain in ("", "ai.onnx")) >= 18


@pytest.mark.parametrize("batch", [1, 14])
def test_every_output_equals_torchs_within_1e_4_on_real_windows(artifact, series, batch):
    inputs = real_inputs(artifact, series[:batch])
    assert inputs.observed_mask.mean() > 0.5  # real features, most of them present
    want = forward(artifact.model, inputs)
    got = OnnxModel(onnx_path(DEFAULT_ARTIFACT), torch.device("cpu"))(inputs)
    for name in OUTPUTS:
        a, b = getattr(want, name), getattr(got, name)
        assert a.shape == b.shape, name
        assert torch.allclose(a, b, atol=1e-4, rtol=0), (name, float((a - b).abs().max()))


def test_the_served_distributions_are_the_same_from_either_runtime(panel):
    items = [(window_of(panel, s, end, 400), NO_CONTEXT) for s in ("SPY", "AAPL", "TLT", "XLF")
             for end in ("2020-03-16", "2023-12-29")]
    by_torch = TFTForecaster(DEFAULT_ARTIFACT, runtime="torch")
    by_onnx = TFTForecaster(DEFAULT_ARTIFACT, runtime="onnx")
    assert (by_torch.describe()["runtime"], by_onnx.describe()["runtime"]) == ("torch", "onnx")
    for want, got in zip(by_torch.predict(items), by_onnx.predict(items), strict=True):
        for name in ("quantiles", "point", "volatility", "prob_up", "temporal", "selection"):
            assert np.allclose(getattr(want, name), getattr(got, name), atol=1e-4, rtol=0), name


def copy_artifact(tmp_path, graph: bool = True):
    path = tmp_path / "model.pt"
    shutil.copyfile(DEFAULT_ARTIFACT, path)
    if graph:
        shutil.copyfile(onnx_path(DEFAULT_ARTIFACT), onnx_path(path))
    return path


def test_auto_serves_the_graph_beside_the_artifact_and_torch_where_there_is_none_or_a_stale_one(artifact, tmp_path):
    cpu = torch.device("cpu")
    path = copy_artifact(tmp_path)
    assert isinstance(choose_runtime("auto", artifact, path, cpu), OnnxModel)
    assert choose_runtime("torch", artifact, path, cpu) is None
    assert choose_runtime("auto", artifact, path, torch.device("cuda")) is None  # unmeasured on a GPU: torch
    stale = onnx.load(str(onnx_path(path)))
    next(p for p in stale.metadata_props if p.key == "version").value = "an-older-version"
    onnx.save(stale, str(onnx_path(path)))
    assert choose_runtime("auto", artifact, path, cpu) is None  # never a graph of another model
    onnx_path(path).unlink()
    assert choose_runtime("auto", artifact, path, cpu) is None
    with pytest.raises(ValueError, match="TFT_RUNTIME=fast"):
        choose_runtime("fast", artifact, path, cpu)


def test_onnx_without_onnxruntime_is_refused_with_a_message(artifact, tmp_path, monkeypatch):
    import importlib.util
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "onnxruntime" else real(name))
    with pytest.raises(RuntimeMissing, match="onnxruntime is not installed"):
        choose_runtime("onnx", artifact, copy_artifact(tmp_path), torch.device("cpu"))


def test_a_forecast_at_the_edge_needs_onnxruntime_and_numpy_only(artifact, series, tmp_path):
    spy = series[0]
    window = tmp_path / "spy.npz"
    np.savez(window, **window_inputs(artifact, spy))
    # torch (and the project's packages) cannot be imported in this process
    run = ("import sys, runpy; sys.modules['torch'] = None; sys.path = [p for p in sys.path if p != '']; "
           "sys.argv = sys.argv[1:]; runpy.run_path(sys.argv[0], run_name='__main__')")
    out = subprocess.run([sys.executable, "-c", run, str(ROOT / "scripts" / "edge_forecast.py"),
                          str(onnx_path(DEFAULT_ARTIFACT)), str(window)],
                         capture_output=True, text=True, check=True, cwd=tmp_path).stdout
    served = TFTForecaster(DEFAULT_ARTIFACT, runtime="torch").artifact
    idx = np.array([[0, len(spy.dates) - 1]])
    inputs, scales = make_inputs([spy], idx, served.spec, served.scaler)
    want = spy.close[-1] * np.exp(predict(served.model, inputs, scales, served.calibration).quantiles[0])  # (Z, Q)
    lines = [l for l in out.splitlines() if l.startswith("h=")]
    assert len(lines) == len(served.spec.horizons)
    for line, row in zip(lines, want):
        printed = [float(tok) for tok in line.split()[2:2 + 2 * len(row):2]]  # h=5 q0.1 P q0.25 P ...
        assert np.allclose(printed, row, atol=0.011), (line, row)
