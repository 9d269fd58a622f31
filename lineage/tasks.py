"""Celery tasks of lineage (queue ``ingest``): thin wrappers over one service each."""
from __future__ import annotations

from celery import shared_task


@shared_task(name="lineage.tasks.dataset_overlap_index_task", acks_late=True)
def dataset_overlap_index_task(dataset_id: int) -> dict:
    from lineage.services import dataset_overlap_index

    record = dataset_overlap_index(dataset_id=dataset_id)
    return {"dataset": dataset_id, "status": record.status}


@shared_task(name="lineage.tasks.contamination_scan_task", acks_late=True)
def contamination_scan_task(finding_id: int) -> dict:
    from lineage.contamination_services import contamination_scan_run

    finding = contamination_scan_run(finding_id=finding_id)
    return {"finding": finding_id, "status": finding.status, "items_contaminated": finding.items_contaminated}
