"""Helpers for lineage tests: real datasets registered and ingested through the registry."""
from __future__ import annotations

import pytest

from tests import factories
from tests.factories import random_word_samples

synthetic_samples = random_word_samples


def jsonl(samples: list[dict]) -> bytes:
    return factories.jsonl_bytes(samples)


@pytest.fixture
def make_dataset():
    def _make(owner, name: str, samples: list[dict], *, visibility: str = "public", domains=(), parents=()):
        return factories.make_dataset(owner=owner, name=name, records=samples, visibility=visibility,
                                      domains=domains, parents=parents)

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
