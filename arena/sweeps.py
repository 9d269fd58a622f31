"""The sweeper: finds work whose worker stopped beating and puts it back on its queue.

``sweep_stale_work`` runs every ``ARENA_SWEEP_SECONDS`` (celery beat, ``arena.tasks.sweep_task``; or
``manage.py arena_sweep --every N`` without beat) and calls each app's sweep service named in
``ARENA_SWEEPERS`` with the lease cutoff. Each sweep service, for its rows:

- re-queues active rows whose heartbeat is older than the cutoff (the worker died as a whole: SIGKILL, OOM,
  machine loss). The row is reset in one conditional UPDATE, so two sweepers never both re-queue it, and the
  re-queued task claims the lease, so a late redelivery of the dead worker's message does nothing;
- sends the tasks a web process could not send because the broker was unreachable ("waiting for the broker");
- records the failure of tasks that gave up while the database was unreachable (their note is in the cache).

Re-running is safe because the work is idempotent: an ingest restarts from the raw upload, a scoring run redoes
only its unfinished chunks, a training job resumes from its last checkpoint.
"""
from __future__ import annotations

import logging

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.module_loading import import_string

from arena.leases import lease_cutoff
from arena.models import Dataset
from arena.queueing import enqueue_on_commit
from arena.resilience import BROKER_WAIT_PREFIX, notes_apply_failures
from arena.storage import delete_quietly

logger = logging.getLogger(__name__)

DATASET_ACTIVE = Q(status__in=[Dataset.Status.UPLOADED, Dataset.Status.INGESTING])
NOTE_SCAN_LIMIT = 500


def sweep_stale_work() -> dict:
    """Run every configured sweep service; one failing sweep does not stop the others."""
    cutoff = lease_cutoff()
    report: dict = {}
    for path in settings.ARENA_SWEEPERS:
        try:
            report[path] = import_string(path)(cutoff=cutoff)
        except Exception as exc:
            logger.exception("sweep %s failed", path)
            report[path] = {"error": f"{type(exc).__name__}: {exc}"}
    if any(v for counts in report.values() if isinstance(counts, dict) for v in counts.values() if isinstance(v, int)):
        logger.warning("sweeper: %s", report)
    return report


def requeue_rows(*, queryset, reset: dict, send) -> int:
    """Reset each row of ``queryset`` with ``reset`` (only if it still matches) and ``send(pk)``: each ``send``
    enqueues through ``enqueue_on_commit``, so the task leaves once the reset is committed."""
    count = 0
    for pk in list(queryset.values_list("pk", flat=True)[:NOTE_SCAN_LIMIT]):
        with transaction.atomic():
            if queryset.filter(pk=pk).update(heartbeat_at=None, waiting="", **reset) == 1:
                send(pk)
                count += 1
    return count


def broker_waiting(queryset):
    return queryset.filter(waiting__startswith=BROKER_WAIT_PREFIX)


def infra_failures_apply(*, queryset, cutoff, fail_path: str) -> int:
    """Queued rows nobody claimed for a whole lease: did their task give up while the database was gone?"""
    pks = list(queryset.filter(heartbeat_at__isnull=True).values_list("pk", flat=True)[:NOTE_SCAN_LIMIT])
    return notes_apply_failures(model=queryset.model, fail_path=fail_path, pks=pks)


# --- datasets (ingest) ---------------------------------------------------------------------------------------


def _send_ingest(pk: int) -> None:
    from arena.tasks import dataset_ingest_task

    enqueue_on_commit(
        task=dataset_ingest_task, args=[pk], on_sent=lambda task_id: Dataset.objects.filter(pk=pk).update(task_id=task_id)
    )


def datasets_sweep(*, cutoff) -> dict:
    """Re-queue ingests of dead workers (they restart from the raw upload), send unsent ones, apply give-ups."""
    active = Dataset.objects.filter(DATASET_ACTIVE)
    stale = active.filter(heartbeat_at__lt=cutoff)
    for dataset in stale.only("pk", "worker")[:NOTE_SCAN_LIMIT]:
        logger.warning("dataset %s: worker %r stopped beating; re-queueing its ingest", dataset.pk, dataset.worker)
    requeued = requeue_rows(
        queryset=stale, reset={"status": Dataset.Status.UPLOADED, "progress": 0.0}, send=_send_ingest
    )
    sent = requeue_rows(queryset=broker_waiting(active), reset={}, send=_send_ingest)
    failed = infra_failures_apply(
        queryset=active.filter(created_at__lt=cutoff), cutoff=cutoff, fail_path="arena.sweeps.dataset_fail_infra"
    )
    return {"requeued": requeued, "sent": sent, "failed": failed}


def dataset_fail_infra(*, pk: int, message: str) -> None:
    """An ingest gave up on unreachable infrastructure: failed, with the reason; its upload is removed."""
    dataset = Dataset.objects.filter(DATASET_ACTIVE, pk=pk).first()
    if dataset is None:
        return
    Dataset.objects.filter(pk=pk).update(
        status=Dataset.Status.FAILED, error=message, waiting="", heartbeat_at=None, raw_file="", progress=0.0,
        updated_at=timezone.now(),
    )
    delete_quietly(dataset.raw_file)
