"""Every task is sent once the transaction that wrote its rows commits (``arena.queueing.enqueue_on_commit``):
inside a caller's outer ``atomic`` block nothing reaches the queue; after the commit everything does."""

from __future__ import annotations

import io

import pytest
from celery.signals import task_prerun
from django.contrib.auth import get_user_model
from django.db import transaction

from arena.models import Dataset
from arena.services import dataset_register
from scoring.models import ScoringRun
from scoring.services import scoring_run_start
from tests.factories import jsonl_bytes

ROWS = [{"instruction": f"Say {i}.", "input": "", "output": f"{i} and more words here"} for i in range(6)]


@pytest.fixture
def started_tasks():
    names: list[str] = []

    def record(sender=None, **_kwargs) -> None:
        names.append(sender.name)

    task_prerun.connect(record, weak=False)
    yield names
    task_prerun.disconnect(record)


def _upload() -> io.BytesIO:
    upload = io.BytesIO(jsonl_bytes(ROWS))
    upload.name = "rows.jsonl"
    return upload


@pytest.mark.django_db(transaction=True)
def test_ingest_and_scoring_are_sent_only_after_the_outer_commit(started_tasks):
    user = get_user_model().objects.create_user("enqueuer", password="pw-1234567")
    with transaction.atomic():
        dataset = dataset_register(owner=user, upload=_upload(), filename="rows.jsonl", name="Rows")
        assert started_tasks == []  # the ingest task was not sent: the row is not committed yet
        assert Dataset.objects.get(pk=dataset.pk).status == Dataset.Status.UPLOADED
    assert "arena.tasks.dataset_ingest_task" in started_tasks
    dataset.refresh_from_db()
    assert dataset.status == Dataset.Status.READY, dataset.error
    assert dataset.task_id  # recorded by the on-sent callback

    started_tasks.clear()
    with transaction.atomic():
        run = scoring_run_start(dataset=dataset, scorers=[{"name": "mtld"}], user=user)
        assert started_tasks == []
        assert ScoringRun.objects.get(pk=run.pk).status == ScoringRun.Status.QUEUED
    assert started_tasks[0] == "scoring.tasks.scoring_chunk_task"
    run.refresh_from_db()
    assert run.status == ScoringRun.Status.SUCCEEDED, run.error


@pytest.mark.django_db(transaction=True)
def test_a_rolled_back_registration_sends_nothing(started_tasks):
    user = get_user_model().objects.create_user("rollback", password="pw-1234567")
    with pytest.raises(RuntimeError), transaction.atomic():
        dataset_register(owner=user, upload=_upload(), filename="rows.jsonl", name="Gone")
        raise RuntimeError("the caller fails after registering")
    assert started_tasks == []
    assert not Dataset.objects.filter(name="Gone").exists()
