"""Celery tasks of training (queue ``gpu``): thin wrappers over services."""
from __future__ import annotations

from celery import shared_task

from training.services import job_run


@shared_task(name="training.tasks.job_run_task", acks_late=True, reject_on_worker_lost=True)
def job_run_task(job_id: int) -> dict:
    job = job_run(job_id=job_id)
    return {"job": job.pk, "status": job.status, "error": job.error}
