"""Celery tasks of the registry: thin wrappers over services."""
from __future__ import annotations

from celery import shared_task

from arena.services import dataset_ingest


@shared_task(bind=True, name="arena.tasks.dataset_ingest_task", acks_late=True)
def dataset_ingest_task(self, dataset_id: int) -> dict:
    def progress(fraction: float, samples: int) -> None:
        if not self.request.called_directly and self.request.id:
            self.update_state(state="PROGRESS", meta={"fraction": fraction, "samples": samples})

    dataset = dataset_ingest(dataset_id=dataset_id, progress=progress)
    return {"dataset": dataset.pk, "status": dataset.status, "error": dataset.error}
