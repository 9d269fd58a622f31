"""The demo's generators and registration (its training run is measured by `manage.py training_demo`)."""
from __future__ import annotations

import pytest

from lineage.models import LineageEdge
from training.demo.datasets import clean, duplicates, mix, noisy
from training.demo.services import demo_build
from training.demo.tasks import problems
from training.models import BaseModel, Benchmark


def _answers(records):
    return [r["messages"][1]["content"] for r in records]


def test_generators_are_deterministic_and_of_known_quality():
    assert clean(size=300) == clean(size=300)
    truth = [p.answer for p in problems(n=600, seed=2)]
    wrong = sum(a != t for a, t in zip(_answers(noisy(size=600)), truth))
    assert 0.4 < wrong / 600 < 0.6
    dup = duplicates(size=600)
    assert len({tuple(r["messages"][0].values()) for r in dup}) <= 40
    assert _answers(mix(size=600)) == _answers(clean(size=600))[:300] + _answers(noisy(size=600))[:300]


@pytest.mark.django_db
def test_demo_build_registers_everything_with_lineage(user):
    build = demo_build(owner=user, run_jobs=False, size=120)
    assert set(build.datasets) == {"clean", "noisy", "duplicates", "mix"}
    assert all(d.status == "ready" and d.sample_count == 120 for d in build.datasets.values())
    parents = LineageEdge.objects.filter(child=build.datasets["mix"], relation="mixture")
    assert {e.parent_id for e in parents} == {build.datasets["clean"].pk, build.datasets["noisy"].pk}
    assert {b.domain for b in build.benchmarks} == {"math", "reasoning", "general"}
    assert Benchmark.objects.get(slug="humaneval").item_count == 164
    assert BaseModel.objects.get(name="SmolLM2-135M-Instruct").path.endswith(".gguf")
    again = demo_build(owner=user, run_jobs=False, size=120)  # idempotent
    assert {k: d.pk for k, d in again.datasets.items()} == {k: d.pk for k, d in build.datasets.items()}
