"""Run a job under ``accelerate launch`` (one process per GPU, FSDP2 / DeepSpeed ZeRO-3 / DDP) from a GPU worker.

With ``ARENA_TRAIN_LAUNCHER=accelerate`` the Celery task does not train in its own process: it starts

    accelerate launch --config_file <recipe's config> --num_processes N manage.py training_run_job <id>

and waits. Every launched process runs ``training.job_runner.job_run``; rank 0 writes the Job row. The
launcher's output goes to the job's ``train.log``. If the launched processes die without finishing the job
(an OOM-killed rank, a lost GPU), the job is launched again and resumes from its newest checkpoint;
``job_run`` gives up after MAX_ATTEMPTS. Multi-machine runs are started by hand on each machine (docs/training.md).
"""
from __future__ import annotations

import logging
import shutil
import subprocess
import sys
from pathlib import Path

from django.conf import settings
from django.utils import timezone

from arena.errors import ArenaError
from training.job_runner import MAX_ATTEMPTS, TERMINAL, job_log_file
from training.models import Job

logger = logging.getLogger(__name__)
MANAGE_PY = Path(__file__).resolve().parent.parent / "manage.py"


def launch_command(*, job_id: int, config_file: Path, num_processes: int) -> list[str]:
    accelerate = shutil.which("accelerate", path=str(Path(sys.executable).parent)) or shutil.which("accelerate")
    head = [accelerate] if accelerate else [sys.executable, "-m", "accelerate.commands.launch"]
    if accelerate:
        head.append("launch")
    return [*head, "--config_file", str(config_file), "--num_processes", str(num_processes),
            str(MANAGE_PY), "training_run_job", str(job_id)]


def num_processes() -> int:
    if settings.ARENA_TRAIN_NUM_PROCESSES > 0:
        return settings.ARENA_TRAIN_NUM_PROCESSES
    import torch

    return max(1, torch.cuda.device_count())


def _fail(job: Job, message: str) -> None:
    Job.objects.filter(pk=job.pk).exclude(status__in=TERMINAL).update(
        status=Job.Status.FAILED, error=message, stage="failed", finished_at=timezone.now())


def job_run_launched(*, job_id: int) -> Job:
    """The Celery side of a launched job: validate its accelerate config, launch, relaunch to resume if needed."""
    from training.engine.accelerate_config import accelerate_config_for

    job = Job.objects.select_related("recipe").get(pk=job_id)
    if job.status in TERMINAL:
        return job
    strategy = job.recipe.distributed if job.recipe else "none"
    try:
        config_file = accelerate_config_for(strategy=strategy, override=settings.ARENA_ACCELERATE_CONFIG)
    except ArenaError as exc:
        _fail(job, exc.message)
        job.refresh_from_db()
        return job
    command = launch_command(job_id=job.pk, config_file=config_file, num_processes=num_processes())
    log_path = job_log_file(job)
    log_path.parent.mkdir(parents=True, exist_ok=True)
    for _ in range(MAX_ATTEMPTS + 1):
        with open(log_path, "ab") as log:
            log.write(f"{timezone.now():%Y-%m-%d %H:%M:%S} launching: {' '.join(command)}\n".encode())
            log.flush()
            returncode = subprocess.call(command, cwd=MANAGE_PY.parent, stdout=log, stderr=subprocess.STDOUT)
        job.refresh_from_db()
        if job.status in TERMINAL:
            return job
        logger.warning("job %s: launched processes exited with %s before finishing; launching again", job.pk, returncode)
    _fail(job, f"the launched training processes exited without finishing the job {MAX_ATTEMPTS + 1} times; "
               f"see {log_path}")
    job.refresh_from_db()
    return job
