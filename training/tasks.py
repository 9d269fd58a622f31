"""Celery tasks of training (queue ``gpu``): thin wrappers over the worker-side services."""
from __future__ import annotations

from celery import shared_task


@shared_task(name="training.tasks.job_run_task", acks_late=True, reject_on_worker_lost=True)
def job_run_task(job_id: int) -> dict:
    """Run the job in this process, or under ``accelerate launch`` when ARENA_TRAIN_LAUNCHER=accelerate."""
    from django.conf import settings

    if settings.ARENA_TRAIN_LAUNCHER == "accelerate":
        from training.launcher import job_run_launched as run
    else:
        from training.job_runner import job_run as run
    job = run(job_id=job_id)
    return {"job": job.pk, "status": job.status, "error": job.error}
