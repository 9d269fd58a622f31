"""Training's part of the sweeper (``arena.sweeps``): jobs whose worker stopped beating resume elsewhere."""
from __future__ import annotations

import logging

from django.db.models import Q
from django.utils import timezone

from arena.queueing import enqueue_on_commit
from arena.sweeps import broker_waiting, infra_failures_apply, requeue_rows
from training.models import Job

logger = logging.getLogger(__name__)

JOB_ACTIVE = Q(status__in=[Job.Status.QUEUED, Job.Status.RUNNING])


def _send_job(pk: int) -> None:
    """The job's own task: ``job_run`` sees the job still ``running`` and resumes from its last checkpoint
    (``job_retry`` would start over)."""
    from training.tasks import job_run_task

    enqueue_on_commit(task=job_run_task, args=[pk], on_sent=lambda task_id: Job.objects.filter(pk=pk).update(task_id=task_id))


def jobs_sweep(*, cutoff) -> dict:
    jobs = Job.objects.filter(JOB_ACTIVE)
    stale = jobs.filter(heartbeat_at__lt=cutoff)
    for job in stale.only("pk", "worker")[:100]:
        logger.warning("job %s: worker %r stopped beating; re-queueing it to resume from its checkpoint", job.pk,
                       job.worker)
    requeued = requeue_rows(queryset=stale, reset={}, send=_send_job)
    sent = requeue_rows(queryset=broker_waiting(jobs), reset={}, send=_send_job)
    failed = infra_failures_apply(
        queryset=jobs.filter(created_at__lt=cutoff), cutoff=cutoff, fail_path="training.sweeps.job_fail_infra"
    )
    return {"requeued": requeued, "sent": sent, "failed": failed}


def job_fail_infra(*, pk: int, message: str) -> None:
    Job.objects.filter(JOB_ACTIVE, pk=pk).update(
        status=Job.Status.FAILED, error=message, stage="failed", waiting="", heartbeat_at=None,
        finished_at=timezone.now(),
    )
