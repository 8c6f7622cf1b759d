"""A forecast at the edge: the model's ONNX graph and a window's inputs, with onnxruntime
and numpy alone, no PyTorch (README, "ONNX Runtime"). Both files come from
`tft-forecast export ARTIFACT --onnx FILE --window SYMBOL --data-dir DIR`.

    python scripts/edge_forecast.py FILE.onnx FILE.SYMBOL.npz
"""
import sys

import numpy as np
import onnxruntime as ort

graph, window = sys.argv[1], np.load(sys.argv[2])
session = ort.InferenceSession(graph, providers=["CPUExecutionProvider"])
inputs = {i.name: window[i.name] for i in session.get_inputs()}
quantiles, prob_up = session.run(["quantiles", "direction_logit"], inputs)
# Log-return quantiles in units of the window's typical move, (1, Z, Q): scaled back, with
# the intervals widened around the median by the artifact's calibration factors.
q = quantiles[0] * window["scales"][0][:, None]
median = q[:, list(window["quantiles"]).index(0.5)][:, None]
q = np.sort(median + window["calibration"] * (q - median), axis=-1)
prices = window["last_close"] * np.exp(q)
print(f"close {window['last_close']:.2f} on {window['as_of']}")
for h, row, logit in zip(window["horizons"], prices, prob_up[0]):
    levels = "  ".join(f"q{lvl:g} {p:.2f}" for lvl, p in zip(window["quantiles"], row))
    print(f"h={h:<3} {levels}  P(up) {1 / (1 + np.exp(-logit)):.2f}")
