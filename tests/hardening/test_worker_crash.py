"""A worker SIGKILLed in the middle of an ingest: the task is redelivered and the dataset ends ready exactly once."""

from __future__ import annotations

import json
import time

import pyarrow.parquet as pq
import pytest
from django.core.files.storage import default_storage

from arena.models import Dataset
from arena.services import dataset_register
from tests.polling import wait_until

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.integration, pytest.mark.slow]

RECORDS = 80_000  # several seconds of ingest on one core, so there is time to kill it half-way
VISIBILITY_TIMEOUT = 5  # seconds before an unacknowledged message goes back to the queue


def _poll(dataset_id: int, done, *, timeout: float, what: str) -> Dataset:
    return wait_until(
        lambda: Dataset.objects.get(pk=dataset_id),
        done,
        timeout=timeout,
        interval=0.05,
        describe=lambda dataset: f"{what}: status {dataset.status}, progress {dataset.progress}",
    )


def _stored_files(root) -> set[str]:
    return {str(p.relative_to(root)) for p in root.rglob("*") if p.is_file()}


def test_killed_worker_ingest_is_redelivered_and_completes_once(
    celery_worker, user, make_upload, monkeypatch, settings, _isolated_storage
):
    monkeypatch.setenv("CELERY_VISIBILITY_TIMEOUT", str(VISIBILITY_TIMEOUT))  # read by the worker processes
    first = celery_worker(queues=["ingest"])
    content = "".join(
        json.dumps({"instruction": f"Question {i}: " + "word " * 20, "input": "", "output": f"Answer {i}"}) + "\n"
        for i in range(RECORDS)
    )
    dataset = dataset_register(owner=user, upload=make_upload(content), filename="big.jsonl", name="Big")
    assert dataset.status == Dataset.Status.UPLOADED and dataset.raw_file

    mid = _poll(
        dataset.pk,
        lambda d: d.status == Dataset.Status.INGESTING and 0.05 <= d.progress,
        timeout=60,
        what="ingest start",
    )
    delivered_by = time.monotonic()
    first.kill()
    assert mid.progress < 0.9, f"the ingest was nearly over ({mid.progress}) before the kill: use more records"
    killed = Dataset.objects.get(pk=dataset.pk)
    time.sleep(1.0)
    frozen = Dataset.objects.get(pk=dataset.pk)
    assert frozen.status == Dataset.Status.INGESTING and frozen.progress == killed.progress < 1.0  # really dead
    assert not frozen.samples_file and frozen.raw_file  # nothing published half-way; the upload is still there

    # A fresh worker's first sweep puts unacknowledged messages older than the visibility timeout back on the queue.
    time.sleep(max(0.0, VISIBILITY_TIMEOUT + 1 - (time.monotonic() - delivered_by)))
    celery_worker(queues=["ingest"])
    done = _poll(dataset.pk, lambda d: d.status in ("ready", "failed"), timeout=180, what="redelivered ingest")

    assert done.status == Dataset.Status.READY, done.error
    assert done.sample_count == RECORDS and done.progress == 1.0
    assert Dataset.objects.count() == 1
    parquet = pq.ParquetFile(default_storage.path(done.samples_file))
    assert parquet.metadata.num_rows == RECORDS  # not doubled by the two attempts
    idx = parquet.read(columns=["idx"]).column("idx").to_pylist()
    assert idx == list(range(RECORDS))
    assert _stored_files(_isolated_storage) == {done.samples_file}  # raw upload removed, no .part left over
    leftovers = sorted(p.name for p in settings.ARENA_TMP_DIR.iterdir())
    assert leftovers == [], f"temp files left in ARENA_TMP_DIR after the crash: {leftovers}"
