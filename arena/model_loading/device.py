"""One device choice for every model Arena loads, and the precision that goes with it."""
from __future__ import annotations

from typing import TYPE_CHECKING

from django.conf import settings

from arena.errors import InvalidInput

if TYPE_CHECKING:
    import torch

PRECISION_POLICY = "float32 on CPU, bfloat16 on CUDA"


def resolve_device(*, requested: str | None = None) -> torch.device:
    """``ARENA_DEVICE`` (or ``requested``): auto -> cuda when available else cpu; cpu; cuda / cuda:N.
    Asking for CUDA on a machine without one is an error, never a silent fallback."""
    import torch

    value = (requested if requested is not None else settings.ARENA_DEVICE).strip().lower()
    if value in ("", "auto"):
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if value == "cpu":
        return torch.device("cpu")
    if value == "cuda" or value.startswith("cuda:"):
        if not torch.cuda.is_available():
            raise InvalidInput(f"ARENA_DEVICE={value!r} but no CUDA device is available to torch on this machine")
        try:
            return torch.device(value)
        except RuntimeError as exc:
            raise InvalidInput(f"ARENA_DEVICE={value!r} is not a device: {exc}") from None
    raise InvalidInput(f"ARENA_DEVICE={value!r} is not a device: use auto, cpu, cuda or cuda:N")


def dtype_for(*, device: torch.device) -> torch.dtype:
    """bf16 on CUDA, float32 on CPU (bf16 matmuls on CPU are slow and less exact)."""
    import torch

    return torch.bfloat16 if device.type == "cuda" else torch.float32
