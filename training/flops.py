"""Model FLOPs utilisation: MFU = 6 * N * tokens/s / peak FLOP/s (dense bf16 peak of the GPU)."""
from __future__ import annotations

# Dense (no sparsity) bf16 tensor-core peaks, FLOP/s.
GPU_PEAK_BF16 = {
    "H200": 989e12,
    "H100": 989e12,  # SXM; the PCIe card is ~756e12
    "A100": 312e12,
    "L40S": 362e12,
    "A10G": 125e12,
    "L4": 121e12,
}


def gpu_peak_flops(device_name: str) -> float | None:
    """The bf16 dense peak for a known GPU name, or None (then pass the peak explicitly)."""
    name = device_name.upper()
    if "H100" in name and "PCIE" in name:
        return 756e12
    for key, value in GPU_PEAK_BF16.items():
        if key in name:
            return value
    return None


def mfu(*, parameters: int, tokens_per_s: float, peak_flops: float) -> float:
    return 6.0 * parameters * tokens_per_s / peak_flops
