"""Training on several processes with PyTorch's own distributed data parallel.

Under `torchrun` (which sets RANK, LOCAL_RANK and WORLD_SIZE) every process draws the
same global batch from the same seeded generator and trains on its own slice of it;
DDP averages the gradients, so each step is the single-process step on the whole batch,
up to the order of floating-point sums. gloo on CPUs, NCCL on GPUs (one per process).
Rank 0 writes the artifact. Without torchrun nothing here changes a run.
"""
import os
from contextlib import contextmanager
from dataclasses import dataclass

import torch
import torch.distributed as dist


@dataclass(frozen=True)
class World:
    rank: int = 0
    size: int = 1
    local_rank: int = 0

    @property
    def main(self) -> bool:
        return self.rank == 0

    def part(self, batch):
        """This process's share of a global batch (an array or list of origins)."""
        if self.size > 1 and len(batch) % self.size:
            raise ValueError(f"a batch of {len(batch)} does not split over {self.size} processes")
        return batch[self.rank::self.size]

    def wrap(self, model: torch.nn.Module, device: torch.device) -> torch.nn.Module:
        if self.size == 1:
            return model
        ids = [device.index] if device.type == "cuda" else None
        return torch.nn.parallel.DistributedDataParallel(model, device_ids=ids)

    def barrier(self) -> None:
        if self.size > 1:
            dist.barrier()


@contextmanager
def world(device: str):
    """The processes of this run, the process group set up for it and torn down after.
    `device`: cuda runs take the GPU of their local rank."""
    size = int(os.environ.get("WORLD_SIZE", "1"))
    if size == 1:
        yield World(), device
        return
    rank, local = int(os.environ["RANK"]), int(os.environ.get("LOCAL_RANK", "0"))
    cuda = device.startswith("cuda") or (device == "auto" and torch.cuda.is_available())
    dist.init_process_group("nccl" if cuda else "gloo")
    try:
        yield World(rank, size, local), f"cuda:{local}" if cuda else "cpu"
    finally:
        dist.destroy_process_group()
