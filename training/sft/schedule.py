"""Learning-rate schedules: linear warmup, then cosine, linear or constant."""
from __future__ import annotations

import math

import torch

SCHEDULES = ("cosine", "linear", "constant")


def lr_multiplier(step: int, *, total_steps: int, warmup_steps: int, kind: str) -> float:
    """The factor applied to the peak learning rate before optimizer step ``step`` (0-based)."""
    if kind not in SCHEDULES:
        raise ValueError(f"unknown scheduler {kind!r}; expected one of {', '.join(SCHEDULES)}")
    if warmup_steps and step < warmup_steps:
        return (step + 1) / warmup_steps
    if kind == "constant":
        return 1.0
    decay_steps = max(total_steps - warmup_steps, 1)
    progress = min(max(step - warmup_steps, 0) / decay_steps, 1.0)
    if kind == "linear":
        return 1.0 - progress
    return 0.5 * (1.0 + math.cos(math.pi * progress))


def build_scheduler(optimizer, *, total_steps: int, warmup_ratio: float, kind: str):
    warmup_steps = int(round(warmup_ratio * total_steps))
    return torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda step: lr_multiplier(step, total_steps=total_steps, warmup_steps=warmup_steps, kind=kind)
    )
