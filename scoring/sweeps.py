"""Scoring's part of the sweeper (``arena.sweeps``): chunks and finalizes whose worker stopped beating."""
from __future__ import annotations

import logging

from django.db.models import Exists, Max, OuterRef, Q
from django.utils import timezone

from arena.queueing import enqueue_on_commit
from arena.sweeps import broker_waiting, infra_failures_apply, requeue_rows
from scoring.models import ScoringChunk, ScoringRun

logger = logging.getLogger(__name__)

RUN_STARTED = [ScoringRun.Status.QUEUED, ScoringRun.Status.RUNNING]
CHUNK_ACTIVE = Q(status__in=[ScoringChunk.Status.PENDING, ScoringChunk.Status.RUNNING], run__status__in=RUN_STARTED)
RUN_FINALIZING = Q(status=ScoringRun.Status.FINALIZING)


def _send_chunk(pk: int) -> None:
    from scoring.tasks import scoring_chunk_task

    enqueue_on_commit(task=scoring_chunk_task, args=[pk])


def _send_finalize(pk: int) -> None:
    from scoring.tasks import scoring_finalize_task

    enqueue_on_commit(task=scoring_finalize_task, args=[pk])


def _orphaned_finalizes(*, cutoff):
    """Running runs whose every chunk is done, the last one a lease ago: the worker died before the merge was
    enqueued."""
    unfinished = ScoringChunk.objects.filter(run=OuterRef("pk")).exclude(status=ScoringChunk.Status.DONE)
    return (
        ScoringRun.objects.filter(status=ScoringRun.Status.RUNNING)
        .annotate(last_done=Max("chunks__finished_at"))
        .filter(~Exists(unfinished), last_done__lt=cutoff)
    )


def scoring_chunks_sweep(*, cutoff) -> dict:
    """Re-queue the chunks of dead workers (only those: done chunks stay done) and their runs' merges."""
    chunks = ScoringChunk.objects.filter(CHUNK_ACTIVE)
    stale = chunks.filter(heartbeat_at__lt=cutoff)
    for chunk in stale.only("pk", "run_id", "worker")[:100]:
        logger.warning("scoring chunk %s of run %s: worker %r stopped beating; re-queueing", chunk.pk, chunk.run_id,
                       chunk.worker)
    requeued = requeue_rows(queryset=stale, reset={"status": ScoringChunk.Status.PENDING}, send=_send_chunk)
    runs = ScoringRun.objects.filter(RUN_FINALIZING)
    finalizes = requeue_rows(queryset=runs.filter(heartbeat_at__lt=cutoff), reset={}, send=_send_finalize)
    orphaned = [run.pk for run in _orphaned_finalizes(cutoff=cutoff)[:100]]
    finalizes += requeue_rows(
        queryset=ScoringRun.objects.filter(pk__in=orphaned, status=ScoringRun.Status.RUNNING),
        reset={"status": ScoringRun.Status.FINALIZING},
        send=_send_finalize,
    )
    sent = requeue_rows(queryset=broker_waiting(chunks), reset={}, send=_send_chunk)
    sent += requeue_rows(queryset=broker_waiting(runs), reset={}, send=_send_finalize)
    failed = infra_failures_apply(
        queryset=chunks.filter(run__created_at__lt=cutoff), cutoff=cutoff, fail_path="scoring.sweeps.chunk_fail_infra"
    )
    failed += infra_failures_apply(
        queryset=runs.filter(created_at__lt=cutoff), cutoff=cutoff, fail_path="scoring.sweeps.run_fail_infra"
    )
    return {"requeued": requeued, "finalizes": finalizes, "sent": sent, "failed": failed}


def chunk_fail_infra(*, pk: int, message: str) -> None:
    chunk = ScoringChunk.objects.filter(pk=pk).first()
    if chunk is None:
        return
    now = timezone.now()
    ScoringChunk.objects.filter(pk=pk).exclude(status=ScoringChunk.Status.DONE).update(
        status=ScoringChunk.Status.FAILED, error=message, waiting="", heartbeat_at=None, finished_at=now
    )
    run_fail_infra(pk=chunk.run_id, message=f"chunk {chunk.group} rows {chunk.start}-{chunk.end}: {message}")


def run_fail_infra(*, pk: int, message: str) -> None:
    ScoringRun.objects.filter(pk=pk, status__in=ScoringRun.ACTIVE).update(
        status=ScoringRun.Status.FAILED, error=message, waiting="", heartbeat_at=None, finished_at=timezone.now()
    )
