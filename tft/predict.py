"""Model outputs in log-return units, batched, on CPU or GPU (mixed precision on CUDA)."""
from dataclasses import dataclass, replace

import numpy as np
import torch

from tft import calibration as calib
from tft.device import autocast
from tft.model import TemporalFusionTransformer, TFTInputs, TFTOutput


@dataclass(frozen=True)
class Forecasts:
    quantiles: np.ndarray  # (N, Z, Q) log-return quantiles
    point: np.ndarray  # (N, Z) expected log return
    vol: np.ndarray  # (N, Z) standard deviation of the log return
    prob_up: np.ndarray  # (N, Z)


@torch.no_grad()
def forward(model: TemporalFusionTransformer, inputs: TFTInputs) -> TFTOutput:
    device = next(model.parameters()).device
    with autocast(device):
        return model(inputs.to(device))


def to_forecasts(out: TFTOutput, scales: np.ndarray) -> Forecasts:
    """Normalised outputs (B, Z, ...) times scales (B, Z) -> log-return units."""
    s = torch.as_tensor(scales, device=out.point.device, dtype=torch.float32)
    return Forecasts(
        quantiles=(out.quantiles.float() * s.unsqueeze(-1)).cpu().numpy(),
        point=(out.point.float() * s).cpu().numpy(),
        vol=(torch.exp(out.log_vol.float()) * s).cpu().numpy(),
        prob_up=torch.sigmoid(out.direction_logit.float()).cpu().numpy(),
    )


def predict(model: TemporalFusionTransformer, inputs: TFTInputs, scales: np.ndarray,
            calibration: np.ndarray | None = None) -> Forecasts:
    """Forecasts with the intervals widened by the artifact's calibration factors (Z, Q)."""
    model.eval()
    fc = to_forecasts(forward(model, inputs), scales)
    return replace(fc, quantiles=calib.apply(fc.quantiles, calibration, model.config.quantiles))
