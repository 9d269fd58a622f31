"""Fixtures of the training tests: a very small tiny-model, small demo benchmarks and datasets."""
from __future__ import annotations

import io
import json

import pytest

from training.demo.benchmarks import demo_benchmarks
from training.benchmark_services import benchmark_create
from training.services import base_model_create, recipe_create
from tests import factories
from tests.factories import task_samples

TINY_PATH = 'tiny:{"hidden_size": 32, "intermediate_size": 64, "num_hidden_layers": 1, "num_attention_heads": 2, "num_key_value_heads": 2, "max_position_embeddings": 64}'


@pytest.fixture
def tiny_base(db):
    return base_model_create(name="tiny test", path=TINY_PATH)


@pytest.fixture
def recipe(db):
    return recipe_create(name="test recipe", learning_rate=3e-3, epochs=1.0, batch_size=8, max_length=48,
                         warmup_ratio=0.1, scheduler="cosine")


@pytest.fixture
def benchmarks(db):
    made = []
    for spec in demo_benchmarks(n=12):
        upload = io.BytesIO("".join(json.dumps(i) + "\n" for i in spec.items).encode())
        made.append(benchmark_create(name=spec.name, domain=spec.domain, kind=spec.kind, metric=spec.metric,
                                     upload=upload, filename="items.jsonl"))
    return made


@pytest.fixture
def make_dataset(user):
    def _make(*, size: int = 96, name: str = "tiny clean", owner=None, visibility: str = "public"):
        return factories.make_dataset(owner=owner or user, name=name, records=task_samples(size), visibility=visibility)

    return _make


@pytest.fixture(autouse=True, scope="session")
def _one_torch_thread():
    """Tiny models on shared CPU cores run fastest on one thread (as the workers do: ARENA_CPU_THREADS)."""
    import torch

    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(previous)
