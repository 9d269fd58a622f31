"""The worker side of a job: claim it, fine-tune through the engine (training.engine.sft), evaluate, record.

``job_run`` runs in a Celery ``gpu`` worker (in-process) or in every process of
``accelerate launch ... manage.py training_run_job <id>``. Only the main process (RANK 0) writes the Job
row; the others train and follow its decisions (go / cancel). All EvalResults and the final status are
written in one transaction, so a failed or cancelled job never leaves a partial leaderboard entry. A worker
killed mid-run leaves the task unacknowledged; the broker redelivers it and the job resumes from its
newest checkpoint (``attempts`` counts the runs; after MAX_ATTEMPTS it fails instead of looping).
"""
from __future__ import annotations

import contextlib
import logging
import os
import platform
import time

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from arena.errors import ArenaError
from arena.resilience import TRANSIENT_INFRA_ERRORS
from arena.storage import (
    delete_job_checkpoints,
    delete_job_weights,
    delete_quietly,
    job_checkpoint_dir,
    job_log_path,
    job_weights_dir,
)
from training.evaluation.common import EvaluationCancelled
from training.job_progress import JobReporter
from training.models import EvalResult, Job
from training.recipes import recipe_values

logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 3
TERMINAL = (Job.Status.SUCCEEDED, Job.Status.FAILED, Job.Status.CANCELLED)
TRAIN_SHARE = 0.8  # of a training job's progress bar; evaluation is the rest
OOM_ADVICE = ("ran out of GPU memory{where}: lower the recipe's batch_size (raise gradient_accumulation to keep the "
              "global batch) or max_length, enable gradient_checkpointing, use LoRA, or shard the model with "
              "distributed=zero3/fsdp on more GPUs")


def job_checkpoint_root(job: Job):
    return job_checkpoint_dir(job.pk)


def job_log_file(job: Job):
    return job_log_path(job.pk)


def remove_checkpoints(job: Job) -> None:
    delete_job_checkpoints(job.pk)


def _rank() -> int:
    return int(os.environ.get("RANK", "0"))


def _world_size() -> int:
    return int(os.environ.get("WORLD_SIZE", "1"))


def _fault_injection_step() -> int | None:
    """Test hook: ``ARENA_FAULT_KILL_AT_STEP=N`` makes the worker SIGKILL itself after step N of a job's first attempt."""
    raw = os.environ.get("ARENA_FAULT_KILL_AT_STEP", "")
    return int(raw) if raw else None


class _SilentReporter(JobReporter):
    """Non-main processes of a multi-process run report nothing."""

    def __init__(self) -> None:
        super().__init__(0)

    def flush(self) -> None:
        self._pending.clear()
        self._fields.clear()


def _finish(*, status: str, reporter: JobReporter, message: str, error: str = "", **fields) -> None:
    reporter.log(message)
    reporter.update(force=True, status=status, error=error, finished_at=timezone.now(), **fields)


def _broadcast(decision: str) -> str:
    """Rank 0's decision, on every rank (torch.distributed through accelerate's PartialState when launched)."""
    if _world_size() == 1:
        return decision
    from accelerate import PartialState
    from accelerate.utils import broadcast_object_list

    PartialState()  # initialises the process group from the launcher's environment
    box = [decision]
    broadcast_object_list(box, from_process=0)
    return box[0]


def _claim(job_id: int) -> str:
    """On the main process: decide whether this run goes ahead ('run', 'resume' or 'stop')."""
    with transaction.atomic():
        job = Job.objects.select_for_update().get(pk=job_id)
        if job.status in TERMINAL:
            return "stop"
        if job.cancel_requested:
            Job.objects.filter(pk=job.pk).update(status=Job.Status.CANCELLED, finished_at=timezone.now(), stage="cancelled")
            return "stop"
        resumed = job.status == Job.Status.RUNNING
        Job.objects.filter(pk=job.pk).update(
            status=Job.Status.RUNNING, attempts=F("attempts") + 1, started_at=job.started_at or timezone.now(),
            stage="loading", checkpoint_dir=str(job_checkpoint_root(job)),
        )
    return "resume" if resumed else "run"


def job_run(*, job_id: int) -> Job:
    """Run a job here: train (resuming from a checkpoint if there is one), evaluate, record results.

    Idempotent: a redelivered task for a finished job does nothing.
    """
    main = _rank() == 0
    decision = _broadcast(_claim(job_id) if main else "")
    job = Job.objects.select_related("dataset", "base_model", "recipe").get(pk=job_id)
    if decision == "stop":
        return job
    reporter = JobReporter(job.pk) if main else _SilentReporter()
    if decision == "resume":
        reporter.log(f"attempt {job.attempts}: the previous worker stopped without finishing; resuming")
    if job.attempts > MAX_ATTEMPTS:
        _finish(status=Job.Status.FAILED, reporter=reporter, message="giving up", stage="failed",
                error=f"the job's worker died {job.attempts - 1} times; giving up (retry it to start over)")
        remove_checkpoints(job)
        job.refresh_from_db()
        return job
    failure = None
    try:
        with _engine_log(job, enabled=main):
            _execute(job, reporter)
    except EvaluationCancelled:
        _finish(status=Job.Status.CANCELLED, reporter=reporter, message="cancelled during evaluation", stage="cancelled")
    except TRANSIENT_INFRA_ERRORS:
        raise  # database/broker briefly gone: the task retries with backoff and the job resumes from its checkpoint
    except Exception as exc:  # every failure ends the job with a message, never a stuck 'running' row
        failure = _failure_message(exc)
        if failure.startswith("internal error"):
            logger.exception("job %s crashed", job.pk)
        _finish(status=Job.Status.FAILED, reporter=reporter, message=f"failed: {failure}", error=failure, stage="failed")
    job.refresh_from_db()
    if job.status != Job.Status.SUCCEEDED and main:
        remove_checkpoints(job)
        delete_job_weights(job.pk)
        Job.objects.filter(pk=job.pk).update(weights_dir="")
        job.refresh_from_db()
    return job


def _failure_message(exc: BaseException) -> str:
    import torch

    if isinstance(exc, torch.cuda.OutOfMemoryError):
        return OOM_ADVICE.format(where="") + f" ({str(exc).splitlines()[0][:200]})"
    if isinstance(exc, ArenaError):
        return exc.message
    if isinstance(exc, (ValueError, FileNotFoundError)):
        return str(exc)
    return f"internal error: {type(exc).__name__}: {exc}"


@contextlib.contextmanager
def _engine_log(job: Job, *, enabled: bool):
    """The engines' own log lines (transformers, TRL, PEFT, accelerate) go to the job's train.log."""
    if not enabled:
        yield
        return
    from training.engine.sft import ENGINE_LOGGERS

    path = job_log_file(job)
    path.parent.mkdir(parents=True, exist_ok=True)
    handler = logging.FileHandler(path, encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(asctime)s %(name)s %(levelname)s %(message)s"))
    handler.setLevel(logging.INFO)
    loggers = [logging.getLogger(name) for name in ENGINE_LOGGERS]
    levels = [lg.level for lg in loggers]
    quieted = []  # the engines' own console handlers keep their previous threshold: INFO goes to the file only
    for lg in loggers:
        for other in lg.handlers:
            if other.level == logging.NOTSET:
                quieted.append(other)
                other.setLevel(lg.getEffectiveLevel())
        lg.addHandler(handler)
        lg.setLevel(logging.INFO)
    try:
        yield
    finally:
        for lg, level in zip(loggers, levels):
            lg.removeHandler(handler)
            lg.setLevel(level)
        for other in quieted:
            other.setLevel(logging.NOTSET)
        handler.close()


def _environment(*, use_cpu: bool) -> dict:
    import accelerate
    import peft
    import torch
    import transformers
    import trl

    env = {
        "python": platform.python_version(), "torch": torch.__version__, "transformers": transformers.__version__,
        "trl": trl.__version__, "peft": peft.__version__, "accelerate": accelerate.__version__,
        "world_size": _world_size(), "host": platform.node(),
        "device": "cuda" if torch.cuda.is_available() and not use_cpu else "cpu",
    }
    if env["device"] == "cuda":
        env["gpu"] = torch.cuda.get_device_name()
    return env


def _use_cpu() -> bool:
    from arena.model_loading.device import resolve_device

    return resolve_device().type == "cpu"


def _should_stop(job_id: int):
    return lambda: bool(Job.objects.filter(pk=job_id).values_list("cancel_requested", flat=True).first())


def _execute(job: Job, reporter: JobReporter) -> None:
    import torch

    from training.engine.callbacks import JobCallback
    from training.engine.sft import TrainSpec, train_model
    from training.evaluation.runner import evaluate_benchmark
    from training.flops import gpu_peak_flops
    from arena.model_loading.base_models import load_model_and_tokenizer, parameter_count

    use_cpu = _use_cpu()
    if use_cpu:
        torch.set_num_threads(max(1, settings.ARENA_CPU_THREADS))
    environment = _environment(use_cpu=use_cpu)
    reporter.update(force=True, device=environment["device"], environment=environment)
    metrics: dict = {**job.metrics}
    train_share = TRAIN_SHARE if job.dataset_id else 0.0
    if job.dataset_id:
        recipe = recipe_values(job.recipe)
        if recipe["distributed"] != "none" and _world_size() == 1:
            reporter.log(f"recipe asks for distributed={recipe['distributed']} but this run has one process "
                         "(set ARENA_TRAIN_LAUNCHER=accelerate on the worker to shard it): training unsharded")
        keep = settings.ARENA_KEEP_WEIGHTS > 0
        spec = TrainSpec(
            base_model_path=job.base_model.path, samples_file=job.dataset.samples_file, recipe=recipe, seed=job.seed,
            output_dir=str(job_checkpoint_root(job)), use_cpu=use_cpu, checkpoint_every=settings.ARENA_CHECKPOINT_EVERY,
            weights_dir=str(job_weights_dir(job.pk)) if keep else None,
        )
        peak = gpu_peak_flops(environment["gpu"]) if "gpu" in environment else None
        kill_at = _fault_injection_step() if job.attempts == 1 else None

        def callbacks(parameters: int):
            metrics["parameter_count"] = parameters
            return [JobCallback(reporter=reporter, should_stop=_should_stop(job.pk), train_share=train_share,
                                metrics=metrics, parameters=parameters, peak_flops=peak, world_size=_world_size(),
                                kill_at_step=kill_at)]

        reporter.update(force=True, stage="tokenizing")
        reporter.log(f"fine-tuning {job.base_model.slug} ({recipe['method']}, {environment['device']}, "
                     f"{_world_size()} process(es)) through TRL SFTTrainer")
        outcome = train_model(spec=spec, make_callbacks=callbacks)
        if outcome.cancelled:
            _finish(status=Job.Status.CANCELLED, reporter=reporter, message=f"cancelled at step {outcome.steps}",
                    stage="cancelled", metrics=metrics)
            return
        metrics.update(train_examples=outcome.train_examples, train_steps=outcome.total_steps,
                       train_loss_first=outcome.losses[0] if outcome.losses else None,
                       train_loss_last=outcome.losses[-1] if outcome.losses else None)
        reporter.log(f"training done: {outcome.total_steps} steps, last loss {metrics['train_loss_last']}")
        if _rank() != 0:
            return
        model, tokenizer = outcome.model, outcome.tokenizer
        if spec.weights_dir:
            Job.objects.filter(pk=job.pk).update(weights_dir=spec.weights_dir)
            reporter.log(f"weights kept in {spec.weights_dir}")
    else:
        if _rank() != 0:
            return
        reporter.log(f"loading base model {job.base_model.slug}")
        model, tokenizer = load_model_and_tokenizer(path=job.base_model.path)
        metrics["parameter_count"] = parameter_count(model)
    _evaluate_and_record(job, model=model, tokenizer=tokenizer, reporter=reporter, metrics=metrics,
                         train_share=train_share, evaluate_benchmark=evaluate_benchmark)


def _evaluate_and_record(job, *, model, tokenizer, reporter, metrics, train_share, evaluate_benchmark) -> None:
    benchmarks = list(job.benchmarks.all())
    scores = []
    eval_started = time.perf_counter()
    for n, benchmark in enumerate(benchmarks):
        reporter.update(force=True, stage=f"evaluating {benchmark.slug}"[:40],
                        progress=round(train_share + (1 - train_share) * n / len(benchmarks), 4))
        started = time.perf_counter()
        share = (1 - train_share) / len(benchmarks)
        start = train_share + share * n
        score = evaluate_benchmark(
            benchmark=benchmark, model=model, tokenizer=tokenizer, should_stop=_should_stop(job.pk),
            progress=lambda done, start=start, share=share: reporter.update(progress=round(start + share * done, 4)),
        )
        scores.append((benchmark, score))
        reporter.log(f"{benchmark.slug}: {score.score:.4f} ± {score.stderr:.4f} on {score.n_items} items "
                     f"({time.perf_counter() - started:.1f}s)")
    metrics["eval_seconds"] = round(time.perf_counter() - eval_started, 3)
    with transaction.atomic():
        current = Job.objects.select_for_update().get(pk=job.pk)
        if current.cancel_requested:
            raise EvaluationCancelled()
        previous = list(EvalResult.objects.filter(job=job).values_list("items_file", flat=True))
        EvalResult.objects.filter(job=job).delete()
        transaction.on_commit(lambda: [delete_quietly(name) for name in previous])
        EvalResult.objects.bulk_create([
            EvalResult(job=job, benchmark=benchmark, **score.result_fields())
            for benchmark, score in scores
        ])
        _finish(status=Job.Status.SUCCEEDED, reporter=reporter, message="succeeded", progress=1.0, stage="done",
                metrics=metrics)
    remove_checkpoints(job)
    if job.dataset_id:
        from training.weights import weights_apply_retention

        weights_apply_retention()
