"""Celery tasks of the scoring engine (queue ``scoring``): thin wrappers over services.

``acks_late`` + ``reject_on_worker_lost`` (settings): a chunk whose worker dies is redelivered, and the
service redoes just that chunk.
"""

from __future__ import annotations

from celery import shared_task

from scoring.services import scoring_chunk_execute, scoring_run_finalize


@shared_task(name="scoring.tasks.scoring_chunk_task", acks_late=True)
def scoring_chunk_task(chunk_id: int) -> dict:
    chunk = scoring_chunk_execute(chunk_id=chunk_id)
    return {"chunk": chunk_id, "status": chunk.status if chunk else "gone"}


@shared_task(name="scoring.tasks.scoring_finalize_task", acks_late=True)
def scoring_finalize_task(run_id: int) -> dict:
    run = scoring_run_finalize(run_id=run_id)
    return {"run": run_id, "status": run.status if run else "gone"}
