"""Single-process or data-parallel execution of the trainer.

When ``WORLD_SIZE`` > 1 (set by ``torchrun`` or ``accelerate launch``) the trainer runs as one
process per GPU: torch.distributed is initialised (NCCL on CUDA, Gloo on CPU), the model is wrapped in
DistributedDataParallel, each rank takes every ``world_size``-th micro-batch of an optimizer step,
and only rank 0 writes checkpoints and the Job row. See docs/training.md.
"""
from __future__ import annotations

import contextlib
import os
from dataclasses import dataclass

import torch


@dataclass
class Runtime:
    device: torch.device
    world_size: int = 1
    rank: int = 0

    @property
    def distributed(self) -> bool:
        return self.world_size > 1

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    def wrap(self, model):
        if not self.distributed:
            return model
        from torch.nn.parallel import DistributedDataParallel

        ids = [self.device.index] if self.device.type == "cuda" else None
        return DistributedDataParallel(model, device_ids=ids)

    def no_sync(self, model, *, last_micro_step: bool):
        """Skip the gradient all-reduce on all but the last micro-batch of an accumulated step."""
        if self.distributed and not last_micro_step:
            return model.no_sync()
        return contextlib.nullcontext()

    def any_rank(self, flag: bool) -> bool:
        """True on every rank when ``flag`` is true on any (used for cancellation)."""
        if not self.distributed:
            return flag
        import torch.distributed as dist

        tensor = torch.tensor([1.0 if flag else 0.0], device=self.device)
        dist.all_reduce(tensor, op=dist.ReduceOp.MAX)
        return bool(tensor.item())

    def barrier(self) -> None:
        if self.distributed:
            import torch.distributed as dist

            dist.barrier()


def runtime_from_env(default_device: torch.device) -> Runtime:
    world_size = int(os.environ.get("WORLD_SIZE", "1"))
    if world_size <= 1:
        return Runtime(device=default_device)
    import torch.distributed as dist

    rank = int(os.environ["RANK"])
    local_rank = int(os.environ.get("LOCAL_RANK", "0"))
    if torch.cuda.is_available():
        device = torch.device("cuda", local_rank)
        torch.cuda.set_device(device)
        backend = "nccl"
    else:
        device = torch.device("cpu")
        backend = "gloo"
    if not dist.is_initialized():
        dist.init_process_group(backend=backend)
    return Runtime(device=device, world_size=world_size, rank=rank)
