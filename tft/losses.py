"""The training objective: pinball loss over the quantiles, plus weighted terms for the
point, volatility and direction heads. Targets are normalised log returns (B, Z)."""
import torch
import torch.nn.functional as F

from tft.config import TFTConfig
from tft.model import TFTOutput


def pinball(quantiles: torch.Tensor, y: torch.Tensor, levels: torch.Tensor) -> torch.Tensor:
    """quantiles (B, Z, Q), y (B, Z), levels (Q,) -> mean quantile loss."""
    err = y.unsqueeze(-1) - quantiles
    return torch.maximum(levels * err, (levels - 1) * err).mean()


def tft_loss(out: TFTOutput, y: torch.Tensor, config: TFTConfig) -> tuple[torch.Tensor, dict[str, float]]:
    levels = torch.tensor(config.quantiles, device=y.device, dtype=out.quantiles.dtype)
    q = pinball(out.quantiles, y, levels)
    # Huber rather than squared error: a crash day is ten typical moves and would
    # otherwise dominate the point head.
    point = F.huber_loss(out.point, y)
    # Gaussian negative log-likelihood of y around the (fixed) point forecast
    vol = (out.log_vol + 0.5 * ((y - out.point.detach()) * torch.exp(-out.log_vol)) ** 2).mean()
    direction = F.binary_cross_entropy_with_logits(out.direction_logit, (y > 0).to(y.dtype))
    total = q + config.point_weight * point + config.vol_weight * vol + config.direction_weight * direction
    parts = {"pinball": q.item(), "point": point.item(), "vol": vol.item(), "dir": direction.item()}
    return total, parts
