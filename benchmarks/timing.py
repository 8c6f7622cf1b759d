"""The one way both TFT speed scripts time inference (imported by tft_speed.py and, in
its own environment, by pf_speed.py: torch and numpy only)."""
import time

import numpy as np
import torch


@torch.no_grad()
def ms_per_forecast(model: torch.nn.Module, batches: list, batch_size: int) -> float:
    """Median time of one batch over `batches`, after a warm-up pass, per forecast."""
    model.eval()
    model(batches[0])
    times = []
    for x in batches:
        t = time.perf_counter()
        model(x)
        times.append(time.perf_counter() - t)
    return float(np.median(times)) / batch_size * 1000
