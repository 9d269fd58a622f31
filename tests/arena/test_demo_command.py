"""The embedded demo end to end (quick mode: one seed, heuristic scorers): every app working together."""
from __future__ import annotations

import io
import re

import pytest
from django.core.management import call_command

from arena.models import Dataset
from lineage.models import ContaminationFinding, LineageEdge
from scoring.models import ScoringRun
from training.models import Job

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]  # jobs are queued on commit


def test_quick_demo_builds_real_results_and_is_idempotent(settings):
    settings.ARENA_AFTER_INGEST_HOOKS = ["lineage.services.dataset_index_enqueue"]  # as in a real installation
    out = io.StringIO()
    call_command("arena_demo", "--quick", "--processes", "1", stdout=out)
    text = out.getvalue()

    datasets = Dataset.objects.filter(owner__username="demo")
    assert datasets.count() == 4 and set(datasets.values_list("status", flat=True)) == {"ready"}
    assert ScoringRun.objects.filter(status="succeeded").count() == 4
    assert LineageEdge.objects.filter(origin="declared", relation="mixture").count() == 2
    assert LineageEdge.objects.filter(origin="inferred", superseded_at__isnull=True).exists()
    assert ContaminationFinding.objects.filter(status="done").count() == 4 * 3
    assert Job.objects.filter(status="succeeded").count() == 5  # 4 datasets + the base model, one seed

    scores = {name: float(score) for score, name in re.findall(r"#\d+\s+([0-9.]+) \[.*?\] delta [-+0-9.]+\s+(.+)", text)}
    assert len(scores) == 4, text
    assert scores["Demo arithmetic+logic (clean)"] > scores["Demo arithmetic+logic (noisy labels)"]
    assert "log in as demo / demo-password" in text

    again = io.StringIO()
    call_command("arena_demo", "--quick", "--processes", "1", stdout=again)  # reuses everything: no new datasets, runs or jobs
    assert Dataset.objects.count() == 4 and ScoringRun.objects.count() == 4 and Job.objects.count() == 5
    assert "already scored" in again.getvalue()


def test_the_diverse_half_inherits_domains_and_is_scored_and_trained_like_the_others(settings):
    """The demo answers the arena's own question: the leaderboard shows whether keeping the diverse half helped."""
    from django.contrib.auth import get_user_model

    from arena.demo import DIVERSE_NAME, DemoPlan, demo_run

    owner = get_user_model().objects.create_user("demo-owner", password="pw-demo-123")
    plan = DemoPlan(seeds=(0,), size=120, progress=False)
    lines = demo_run(owner=owner, plan=plan, say=lambda message: None)

    clean = Dataset.objects.get(owner=owner, name="Demo arithmetic+logic (clean)")
    diverse = Dataset.objects.get(owner=owner, name=DIVERSE_NAME)
    assert 0 < diverse.sample_count < clean.sample_count
    assert set(diverse.domains.values_list("name", flat=True)) == {"math", "reasoning", "general"}
    assert set(diverse.domains.all()) == set(clean.domains.all())
    parent_run = ScoringRun.objects.get(dataset=clean, status="succeeded")
    child_run = ScoringRun.objects.get(dataset=diverse, status="succeeded")
    assert {s["name"] for s in child_run.scorers} == {s["name"] for s in parent_run.scorers}
    assert Job.objects.get(dataset=diverse, seed=0).status == "succeeded"
    assert Job.objects.filter(status="succeeded").count() == 6  # 5 datasets + the base model
    assert any(line.endswith(DIVERSE_NAME) for line in lines), lines
