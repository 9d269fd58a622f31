"""Training checkpoints: model, optimizer, scheduler, RNG states and step, written atomically.

A checkpoint is a directory ``step-00000042/state.pt`` under the job's checkpoint root; ``LATEST``
names the newest complete one. The directory is renamed into place and ``LATEST`` is replaced
atomically, so a crash while saving leaves the previous checkpoint intact. Older ones are pruned.
"""
from __future__ import annotations

import os
import random
import shutil
from pathlib import Path

import numpy as np
import torch

LATEST = "LATEST"


def rng_state() -> dict:
    state = {"python": random.getstate(), "numpy": np.random.get_state(), "torch": torch.get_rng_state()}
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def restore_rng(state: dict) -> None:
    random.setstate(state["python"])
    np.random.set_state(state["numpy"])
    torch.set_rng_state(state["torch"])
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])


def save_checkpoint(root: str | Path, *, step: int, model, optimizer, scheduler, extra: dict) -> Path:
    root = Path(root)
    root.mkdir(parents=True, exist_ok=True)
    name = f"step-{step:08d}"
    partial = root / f".{name}.partial"
    shutil.rmtree(partial, ignore_errors=True)
    partial.mkdir()
    torch.save(
        {
            "step": step,
            "model": model.state_dict(),
            "optimizer": optimizer.state_dict(),
            "scheduler": scheduler.state_dict(),
            "rng": rng_state(),
            **extra,
        },
        partial / "state.pt",
    )
    final = root / name
    shutil.rmtree(final, ignore_errors=True)
    os.replace(partial, final)
    pointer = root / f".{LATEST}.tmp"
    pointer.write_text(name)
    os.replace(pointer, root / LATEST)
    for old in root.glob("step-*"):
        if old.name != name:
            shutil.rmtree(old, ignore_errors=True)
    return final


def load_latest(root: str | Path) -> dict | None:
    """The newest checkpoint's state, or None when the job has none yet."""
    pointer = Path(root) / LATEST
    if not pointer.is_file():
        return None
    path = Path(root) / pointer.read_text().strip() / "state.pt"
    if not path.is_file():
        raise FileNotFoundError(f"checkpoint pointer {pointer} names {path}, which is missing")
    return torch.load(path, map_location="cpu", weights_only=False)
