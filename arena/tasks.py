"""Celery tasks of the registry: thin wrappers over services."""
from __future__ import annotations

from celery import shared_task

from arena.resilience import BROKER_ERRORS, ResilientTask


@shared_task(
    bind=True,
    base=ResilientTask,
    name="arena.tasks.dataset_ingest_task",
    subject="arena.Dataset",
    fail_path="arena.sweeps.dataset_fail_infra",
)
def dataset_ingest_task(self, dataset_id: int) -> dict:
    from arena.leases import lease_held
    from arena.models import Dataset
    from arena.services import dataset_ingest
    from arena.sweeps import DATASET_ACTIVE

    def progress(fraction: float, samples: int) -> None:
        if not self.request.called_directly and self.request.id:
            try:
                self.update_state(state="PROGRESS", meta={"fraction": fraction, "samples": samples})
            except BROKER_ERRORS:
                pass  # the result backend is only a mirror: progress is in the database

    with lease_held(model=Dataset, pk=dataset_id, active=DATASET_ACTIVE) as held:
        if not held:  # finished, deleted, or another live worker is ingesting it: nothing to do
            return {"dataset": dataset_id, "status": "skipped"}
        dataset = dataset_ingest(dataset_id=dataset_id, progress=progress)
    return {"dataset": dataset.pk, "status": dataset.status, "error": dataset.error}


@shared_task(name="arena.tasks.sweep_task", acks_late=False)
def sweep_task() -> dict:
    """Run by celery beat every ARENA_SWEEP_SECONDS: re-queue work whose worker stopped beating."""
    from arena.sweeps import sweep_stale_work

    return sweep_stale_work()
