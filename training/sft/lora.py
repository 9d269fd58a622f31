"""A compact LoRA: wrap the attention and MLP projections with trainable low-rank adapters.

``y = W x + (alpha / r) * B A x`` with ``W`` frozen, ``A`` Kaiming-initialised and ``B`` zero, so a freshly
wrapped model computes exactly what the base model computes.
"""
from __future__ import annotations

import math

import torch
from torch import nn

TARGET_NAMES = ("q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj")


class LoRALinear(nn.Module):
    def __init__(self, base: nn.Linear, *, rank: int, alpha: int) -> None:
        super().__init__()
        self.base = base
        self.scale = alpha / rank
        self.lora_a = nn.Parameter(torch.empty(rank, base.in_features, device=base.weight.device))
        self.lora_b = nn.Parameter(torch.zeros(base.out_features, rank, device=base.weight.device))
        nn.init.kaiming_uniform_(self.lora_a, a=math.sqrt(5))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        update = (x.to(self.lora_a.dtype) @ self.lora_a.T) @ self.lora_b.T
        return self.base(x) + (self.scale * update).to(x.dtype)


def apply_lora(model: nn.Module, *, rank: int, alpha: int) -> int:
    """Freeze the model and wrap every targeted linear layer; returns how many layers were wrapped."""
    if rank < 1:
        raise ValueError("lora_rank must be at least 1")
    for parameter in model.parameters():
        parameter.requires_grad_(False)
    targets = [
        (parent, child_name, child)
        for parent in model.modules()
        for child_name, child in parent.named_children()
        if child_name in TARGET_NAMES and isinstance(child, nn.Linear)
    ]
    for parent, child_name, child in targets:
        setattr(parent, child_name, LoRALinear(child, rank=rank, alpha=alpha))
    if not targets:
        raise ValueError(f"no linear layer named {', '.join(TARGET_NAMES)} found: LoRA cannot be applied")
    return len(targets)
