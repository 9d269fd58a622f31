"""Helpers for lineage tests: real datasets registered and ingested through the registry."""
from __future__ import annotations

import json

import numpy as np
import pytest

VOCAB = [f"w{i}" for i in range(3000)]


def synthetic_samples(n: int, *, seed: int, words: int = 40) -> list[dict]:
    """``n`` distinct alpaca samples of random words (disjoint across seeds with overwhelming probability)."""
    rng = np.random.default_rng(seed)
    out = []
    for i in range(n):
        text = rng.choice(VOCAB, size=words)
        out.append({"instruction": " ".join(text[: words // 2]), "output": " ".join(text[words // 2 :]), "id": f"s{seed}-{i}"})
    return out


def jsonl(samples: list[dict]) -> bytes:
    return "\n".join(json.dumps(s) for s in samples).encode() + b"\n"


@pytest.fixture
def make_dataset():
    from tests.factories import ready_dataset

    def _make(owner, name: str, samples: list[dict], *, visibility: str = "public", domains=(), parents=()):
        return ready_dataset(
            owner=owner,
            name=name,
            content=jsonl(samples),
            filename=f"{name}.jsonl",
            visibility=visibility,
            domains=domains,
            parents=parents,
        )

    return _make


@pytest.fixture
def family(user, make_dataset):
    """A (100); B = 30 of A's samples (a subset); D (120) unrelated to A;
    C = 40 other samples of A + 40 of D's (a mixture of A and D, half from each)."""
    a_samples = synthetic_samples(100, seed=1)
    b_samples = a_samples[:30]
    d_samples = synthetic_samples(120, seed=4)
    c_samples = a_samples[50:90] + d_samples[:40]
    return {
        "A": make_dataset(user, "fam-a", a_samples),
        "B": make_dataset(user, "fam-b", b_samples),
        "C": make_dataset(user, "fam-c", c_samples),
        "D": make_dataset(user, "fam-d", d_samples),
    }
