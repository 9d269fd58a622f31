"""Celery tasks of training (queue ``gpu``): thin wrappers over services.

The task holds the job's lease (``arena.leases``); ``JobReporter`` renews its heartbeat with every progress
update. A job whose worker dies is re-queued by the sweeper (``training.sweeps``) and resumes from its last
checkpoint. Unreachable database or broker: retried with backoff (``arena.resilience.ResilientTask``).
"""
from __future__ import annotations

from celery import shared_task

from arena.resilience import ResilientTask


@shared_task(
    base=ResilientTask,
    name="training.tasks.job_run_task",
    subject="training.Job",
    fail_path="training.sweeps.job_fail_infra",
)
def job_run_task(job_id: int) -> dict:
    """Run the job in this process, or under ``accelerate launch`` when ARENA_TRAIN_LAUNCHER=accelerate."""
    from django.conf import settings

    from arena.leases import lease_held
    from training.models import Job
    from training.sweeps import JOB_ACTIVE

    if settings.ARENA_TRAIN_LAUNCHER == "accelerate":
        from training.launcher import job_run_launched as run
    else:
        from training.job_runner import job_run as run
    with lease_held(model=Job, pk=job_id, active=JOB_ACTIVE) as held:
        if not held:  # finished, or another live worker runs it
            return {"job": job_id, "status": "skipped"}
        job = run(job_id=job_id)
    return {"job": job.pk, "status": job.status, "error": job.error}
