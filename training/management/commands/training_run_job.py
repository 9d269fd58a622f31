"""Run one job in this process (no Celery): the entry point for multi-GPU runs under torchrun/accelerate.

    torchrun --nproc_per_node 8 manage.py training_run_job 42
"""
from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from training.models import Job
from training.services import job_run


class Command(BaseCommand):
    help = "Run a queued (or interrupted) training job in this process; under torchrun every rank runs it."

    def add_arguments(self, parser):
        parser.add_argument("job_id", type=int)

    def handle(self, *args, job_id: int, **options):
        if not Job.objects.filter(pk=job_id).exists():
            raise CommandError(f"no job {job_id}")
        job = job_run(job_id=job_id)
        self.stdout.write(f"job {job.pk}: {job.status}" + (f" ({job.error})" if job.error else ""))
        if job.status == Job.Status.FAILED:
            raise CommandError(job.error)
