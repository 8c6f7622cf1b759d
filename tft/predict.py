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
    attention: np.ndarray  # (N, Z, E) each horizon's attention over the encoder days, summing to 1
    selection: np.ndarray  # (N, V) encoder variable-selection weights, mean over the encoder days


@torch.no_grad()
def forward(model: TemporalFusionTransformer, inputs: TFTInputs) -> TFTOutput:
    device = next(model.parameters()).device
    with autocast(device):
        return model(inputs.to(device))


def encoder_attention(out: TFTOutput, horizon_index: torch.Tensor) -> torch.Tensor:
    """(B, Z, E): the attention of each forecast horizon's decoder step over the encoder's
    days, renormalised to the encoder's share (the rest falls on earlier decoder days)."""
    E = out.encoder_weights.shape[1]
    attn = out.attention.float()[:, horizon_index, :E]  # (B, Z, E)
    return attn / attn.sum(-1, keepdim=True)


def to_forecasts(out: TFTOutput, scales: np.ndarray, horizon_index: torch.Tensor) -> Forecasts:
    """Normalised outputs (B, Z, ...) times scales (B, Z) -> log-return units, and the
    attention and selection weights of the same pass."""
    s = torch.as_tensor(scales, device=out.point.device, dtype=torch.float32)
    return Forecasts(
        quantiles=(out.quantiles.float() * s.unsqueeze(-1)).cpu().numpy(),
        point=(out.point.float() * s).cpu().numpy(),
        vol=(torch.exp(out.log_vol.float()) * s).cpu().numpy(),
        prob_up=torch.sigmoid(out.direction_logit.float()).cpu().numpy(),
        attention=encoder_attention(out, horizon_index).cpu().numpy(),
        selection=out.encoder_weights.float().mean(1).cpu().numpy(),
    )


def predict(model: TemporalFusionTransformer, inputs: TFTInputs, scales: np.ndarray,
            calibration: np.ndarray | None = None) -> Forecasts:
    """Forecasts with the intervals widened by the artifact's calibration factors (Z, Q)."""
    model.eval()
    return calibrated(forward(model, inputs), scales, model.horizon_index, calibration, model.config.quantiles)


def calibrated(out: TFTOutput, scales: np.ndarray, horizon_index: torch.Tensor, calibration: np.ndarray | None,
               levels: tuple[float, ...]) -> Forecasts:
    """A forward pass's outputs as forecasts, whichever runtime made them (tft/runtime.py)."""
    fc = to_forecasts(out, scales, horizon_index)
    return replace(fc, quantiles=calib.apply(fc.quantiles, calibration, levels))
