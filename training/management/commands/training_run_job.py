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
        parser.add_argument("job_ids", type=int, nargs="+", metavar="job_id",
                            help="one job, or several run one after the other in this process (one start-up)")

    def handle(self, *args, job_ids: list[int], **options):
        missing = sorted(set(job_ids) - set(Job.objects.filter(pk__in=job_ids).values_list("pk", flat=True)))
        if missing:
            raise CommandError(f"no job {', '.join(map(str, missing))}")
        failed = []
        for job_id in job_ids:
            job = job_run(job_id=job_id)
            if int(os.environ.get("RANK", "0")) != 0:
                continue
            self.stdout.write(f"job {job.pk}: {job.status}" + (f" ({job.error})" if job.error else ""))
            self.stdout.flush()
            if job.status == Job.Status.FAILED:
                failed.append(job)
        if failed:
            raise CommandError("; ".join(f"job {job.pk}: {job.error}" for job in failed))
