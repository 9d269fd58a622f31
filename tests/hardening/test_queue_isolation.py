"""Queue isolation, as in every documented topology: ingest has its own worker, so a small upload finishes while a
long scoring run keeps the scoring worker busy (with one shared `ingest,scoring` worker it waited 652 s)."""
from __future__ import annotations

import json
import time

import pytest

from arena.models import Dataset
from arena.services import dataset_register
from scoring.models import ScoringRun
from scoring.services import scoring_run_start
from tests.factories import ready_dataset
from tests.polling import wait_until

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.integration]


def _jsonl(n: int, tag: str) -> str:
    return "".join(json.dumps({"instruction": f"{tag} question {i} " + "with several words " * 8, "input": "",
                               "output": f"answer {i} " + "and a longer reply " * 12}) + "\n" for i in range(n))


def test_small_ingest_completes_while_a_long_scoring_run_occupies_the_scoring_worker(celery_worker, user,
                                                                                      make_upload):
    big = ready_dataset(owner=user, name="big", content=_jsonl(3000, "big"))
    celery_worker(queues=["scoring"])
    celery_worker(queues=["ingest"])
    run = scoring_run_start(dataset=big, scorers=["mtld", "hdd", "flesch_reading_ease", "language_match"],
                            user=user, chunk_rows=100)
    wait_until(lambda: ScoringRun.objects.get(pk=run.pk), lambda r: r.status == "running", timeout=90, interval=0.1)

    began = time.monotonic()
    small = dataset_register(owner=user, upload=make_upload(_jsonl(40, "small")), filename="small.jsonl",
                             name="small")
    small = wait_until(lambda: Dataset.objects.get(pk=small.pk), lambda d: d.status in ("ready", "failed"),
                       timeout=60, interval=0.1)
    took = time.monotonic() - began
    assert small.status == "ready" and small.sample_count == 40, small.error
    run.refresh_from_db()
    assert run.status == "running" and run.progress < 1.0, "the scoring run should still occupy its worker"
    assert took < 30, f"a 40-sample ingest took {took:.1f} s next to a scoring run"
