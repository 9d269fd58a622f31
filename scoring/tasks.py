"""Celery tasks of the scoring engine (queue ``scoring``): thin wrappers over services.

Each task holds a lease on its chunk (or run, for the merge) while it works (``arena.leases``): a chunk whose
worker dies is re-queued by the sweeper once the lease expires, and the service redoes just that chunk.
Unreachable database or broker: retried with backoff (``arena.resilience.ResilientTask``).
"""

from __future__ import annotations

from celery import shared_task

from arena.resilience import ResilientTask


@shared_task(
    base=ResilientTask,
    name="scoring.tasks.scoring_chunk_task",
    subject="scoring.ScoringChunk",
    fail_path="scoring.sweeps.chunk_fail_infra",
)
def scoring_chunk_task(chunk_id: int) -> dict:
    from arena.leases import lease_held
    from scoring.models import ScoringChunk
    from scoring.chunk_services import scoring_chunk_execute
    from scoring.sweeps import CHUNK_ACTIVE

    with lease_held(model=ScoringChunk, pk=chunk_id, active=CHUNK_ACTIVE) as held:
        if not held:  # done, cancelled, or another live worker is on it
            return {"chunk": chunk_id, "status": "skipped"}
        chunk = scoring_chunk_execute(chunk_id=chunk_id)
    return {"chunk": chunk_id, "status": chunk.status if chunk else "gone"}


@shared_task(
    base=ResilientTask,
    name="scoring.tasks.scoring_finalize_task",
    subject="scoring.ScoringRun",
    fail_path="scoring.sweeps.run_fail_infra",
)
def scoring_finalize_task(run_id: int) -> dict:
    from arena.leases import lease_held
    from scoring.models import ScoringRun
    from scoring.chunk_services import scoring_run_finalize
    from scoring.sweeps import RUN_FINALIZING

    with lease_held(model=ScoringRun, pk=run_id, active=RUN_FINALIZING) as held:
        if not held:
            return {"run": run_id, "status": "skipped"}
        run = scoring_run_finalize(run_id=run_id)
    return {"run": run_id, "status": run.status if run else "gone"}
