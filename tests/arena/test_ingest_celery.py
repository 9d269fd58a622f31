"""Ingest through a real Celery worker on Redis, including a worker killed mid-ingest."""
from __future__ import annotations

import json
import time

import pyarrow.parquet as pq
import pytest
from django.core.files.storage import default_storage

from arena.models import Dataset
from arena.services import dataset_register
from tests.polling import wait_until

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.integration]


def _wait_for(dataset_id: int, statuses: set[str], timeout: float = 120) -> Dataset:
    return wait_until(
        lambda: Dataset.objects.get(pk=dataset_id),
        lambda dataset: dataset.status in statuses,
        timeout=timeout,
        describe=lambda dataset: f"dataset {dataset_id} still {dataset.status}",
    )


def test_ingest_runs_on_a_real_worker_with_progress(celery_worker, user, make_upload, settings):
    celery_worker(queues=["ingest"])
    records = [{"instruction": f"Q{i} " + "word " * 20, "output": f"A{i}"} for i in range(20000)]
    content = "".join(json.dumps(r) + "\n" for r in records)
    dataset = dataset_register(owner=user, upload=make_upload(content), filename="big.jsonl", name="Big")
    assert dataset.status == Dataset.Status.UPLOADED and dataset.task_id  # queued, not run inline
    seen_progress = set()
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        current = Dataset.objects.get(pk=dataset.pk)
        seen_progress.add(current.progress)
        if current.status == Dataset.Status.READY:
            break
        time.sleep(0.05)
    current = Dataset.objects.get(pk=dataset.pk)
    assert current.status == Dataset.Status.READY, current.error
    assert current.sample_count == 20000
    assert pq.ParquetFile(default_storage.path(current.samples_file)).metadata.num_rows == 20000
    assert any(0 < p < 1 for p in seen_progress), seen_progress


def test_bad_file_fails_cleanly_on_the_worker(celery_worker, user, make_upload, settings, _isolated_storage):
    settings.ARENA_PREFLIGHT_RECORDS = 3
    celery_worker(queues=["ingest"], extra_args=[])
    lines = [json.dumps({"instruction": "q", "output": "a"})] * 10 + ['{"instruction": "q", "output": ']
    dataset = dataset_register(
        owner=user, upload=make_upload("\n".join(lines) + "\n"), filename="bad.jsonl", name="Bad", policy="strict"
    )
    failed = _wait_for(dataset.pk, {Dataset.Status.FAILED, Dataset.Status.READY})
    assert failed.status == Dataset.Status.FAILED
    assert failed.error.startswith("line 11: truncated JSON")
    assert [p for p in _isolated_storage.rglob("*") if p.is_file()] == []
