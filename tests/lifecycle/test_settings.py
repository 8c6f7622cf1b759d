"""The lifecycle's settings from the environment: a value that does not parse stops the
worker with the variable's name and what it takes."""
import pytest

from lifecycle.settings import SettingsError, load_lifecycle_settings


def test_the_runtime_and_cuda_graphs_are_read_and_a_wrong_runtime_is_refused_by_name():
    default = load_lifecycle_settings({}).inference
    assert (default.runtime, default.cuda_graphs) == ("auto", False)
    chosen = load_lifecycle_settings({"TFT_RUNTIME": "onnx", "TFT_CUDA_GRAPHS": "true"}).inference
    assert (chosen.runtime, chosen.cuda_graphs) == ("onnx", True)
    with pytest.raises(SettingsError, match=r"TFT_RUNTIME='fast' is not a valid runtime: one of torch, onnx, auto"):
        load_lifecycle_settings({"TFT_RUNTIME": "fast"})
