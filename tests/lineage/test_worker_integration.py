"""End to end through a real Celery worker on Redis: ingest -> after-ingest hook -> overlap indexing task."""
from __future__ import annotations

import io

import pytest

from arena.models import Dataset
from arena.services import dataset_register
from lineage.models import DatasetSignature, LineageEdge
from tests.lineage.conftest import jsonl, synthetic_samples
from tests.polling import wait_until

HOOK = "lineage.services.dataset_index_enqueue"


def _wait_indexed(dataset: Dataset, timeout: float = 90.0) -> DatasetSignature:
    return wait_until(
        lambda: DatasetSignature.objects.filter(dataset=dataset).first(),
        lambda record: record is not None and record.status in ("ready", "failed"),
        timeout=timeout,
        interval=0.3,
        describe=lambda record: f"dataset {dataset.slug} not indexed: {record and record.status}",
    )


def _register(owner, name: str, samples: list[dict]) -> Dataset:
    upload = io.BytesIO(jsonl(samples))
    return dataset_register(owner=owner, upload=upload, filename=f"{name}.jsonl", name=name)  # queued, not inline


@pytest.mark.integration
@pytest.mark.django_db(transaction=True)
def test_ingest_hook_indexes_through_real_worker(user, celery_worker, settings, monkeypatch):
    monkeypatch.setenv("ARENA_AFTER_INGEST_HOOKS", HOOK)  # the worker process reads its settings from the env
    settings.ARENA_AFTER_INGEST_HOOKS = [HOOK]
    celery_worker(queues=["ingest"])
    base = synthetic_samples(60, seed=61)
    parent = _register(user, "worker-parent", base)
    assert _wait_indexed(parent).status == "ready"
    child = _register(user, "worker-child", base[:40])
    record = _wait_indexed(child)
    assert record.status == "ready", record.error
    assert record.task_id
    edge = LineageEdge.objects.get(child=child, origin="inferred", superseded_at__isnull=True)
    assert edge.parent_id == parent.pk and edge.relation == "subset" and edge.confidence == pytest.approx(1.0, abs=0.03)
