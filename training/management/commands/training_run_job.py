"""Run one job in this process (no Celery): the entry point of multi-GPU / multi-machine runs.

    accelerate launch --config_file training/accelerate_configs/deepspeed_zero3.yaml \\
        --num_processes 8 manage.py training_run_job 42

Every launched process runs the job; only rank 0 writes the Job row (see training.job_runner).
"""
from __future__ import annotations

import os

from django.core.management.base import BaseCommand, CommandError

from training.job_runner import job_run
from training.models import Job


class Command(BaseCommand):
    help = "Run a queued (or interrupted) training job here; under accelerate launch / torchrun every rank runs it."

    def add_arguments(self, parser):
        parser.add_argument("job_id", type=int)

    def handle(self, *args, job_id: int, **options):
        if not Job.objects.filter(pk=job_id).exists():
            raise CommandError(f"no job {job_id}")
        job = job_run(job_id=job_id)
        if int(os.environ.get("RANK", "0")) != 0:
            return
        self.stdout.write(f"job {job.pk}: {job.status}" + (f" ({job.error})" if job.error else ""))
        if job.status == Job.Status.FAILED:
            raise CommandError(job.error)
