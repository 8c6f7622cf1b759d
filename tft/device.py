"""Where a model runs and at what precision: the device is chosen once, at start."""
from contextlib import nullcontext

import torch


def choose(name: str) -> torch.device:
    """'cpu', 'cuda' (or 'cuda:N'), or 'auto': CUDA when a device is visible
    (CUDA_VISIBLE_DEVICES decides which), else the CPU."""
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    device = torch.device(name)
    if device.type == "cuda" and not torch.cuda.is_available():
        raise RuntimeError(f"TFT_DEVICE={name}, but torch sees no CUDA device here; use cpu or auto")
    return device


def autocast(device: torch.device):
    """bfloat16 autocast on CUDA: no loss scaling needed, unlike float16. Full precision on
    the CPU, where it is not faster."""
    if device.type == "cuda":
        return torch.autocast("cuda", dtype=torch.bfloat16)
    return nullcontext()
