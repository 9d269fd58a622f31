"""Writes for training and evaluation: register base models, recipes and benchmarks; launch, run,
cancel and retry jobs.

A job's life: ``job_create`` validates everything up front (recipe values, base model path, benchmark
kinds) and queues ``training.tasks.job_run_task`` on the ``gpu`` queue once the row is committed.
``job_run`` (the worker side) trains with checkpoints, evaluates, and writes all EvalResults and the
final status in one transaction. A worker killed mid-run leaves the task unacknowledged; the broker
redelivers it and ``job_run`` resumes from the newest checkpoint (``attempts`` counts the runs).
"""
from __future__ import annotations

import hashlib
import json
import logging
import os
import platform
import shutil
import signal
import time
import uuid
from collections.abc import Iterable
from pathlib import Path

from django.conf import settings
from django.db import transaction
from django.db.models import F, Value
from django.db.models.functions import Concat
from django.utils import timezone
from django.utils.text import slugify

from arena.errors import ArenaError, Conflict, Forbidden, InvalidInput
from arena.models import Dataset
from training.evaluation.common import EvaluationCancelled
from training.job_progress import JobReporter
from training.model_loading import base_model_check, build_tiny_tokenizer
from training.models import BaseModel, Benchmark, EvalResult, Job, Recipe
from training.selectors import job_may_control

logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 3
MAX_BATCH_JOBS = 200
TERMINAL = (Job.Status.SUCCEEDED, Job.Status.FAILED, Job.Status.CANCELLED)
RECIPE_FIELDS = (
    "learning_rate", "epochs", "batch_size", "gradient_accumulation", "max_length", "scheduler", "warmup_ratio",
    "weight_decay", "method", "lora_rank", "lora_alpha", "max_samples",
)


# --- registration ---------------------------------------------------------------------------------

def _unique(model, name: str) -> str:
    if model.objects.filter(name=name).exists():
        raise Conflict(f"a {model._meta.verbose_name} named {name!r} already exists")
    slug = slugify(name)[:200]
    if not slug:
        raise InvalidInput(f"name {name!r} has no letters or digits to make a slug from")
    base, n = slug, 1
    while model.objects.filter(slug=slug).exists():
        n += 1
        slug = f"{base}-{n}"
    return slug


def base_model_create(*, name: str, path: str, revision: str = "", description: str = "") -> BaseModel:
    """Register a base model; the path is validated now (a tiny config is parsed, a file/dir must exist)."""
    name = (name or "").strip()
    if not name:
        raise InvalidInput("a base model needs a name")
    spec = base_model_check(path=path)
    parameter_count = None
    if spec.kind == "tiny":
        from training.model_loading import _build_tiny_model, parameter_count as count

        parameter_count = count(_build_tiny_model(spec.tiny_config, build_tiny_tokenizer()))
    return BaseModel.objects.create(
        name=name, slug=_unique(BaseModel, name), path=path.strip(), revision=revision, description=description,
        parameter_count=parameter_count,
    )


def recipe_validate(*, values: dict) -> None:
    """Raise InvalidInput listing every bad recipe value (values as stored on a Recipe)."""
    problems = []

    def number(key):
        value = values.get(key)
        return value if isinstance(value, (int, float)) and not isinstance(value, bool) else None

    lr = number("learning_rate")
    if lr is None or not 0 < lr < 1:
        problems.append(f"learning_rate must be a number in (0, 1), got {values.get('learning_rate')!r}")
    epochs = number("epochs")
    if epochs is None or not 0 < epochs <= 100:
        problems.append(f"epochs must be in (0, 100], got {values.get('epochs')!r}")
    for key, low, high in (("batch_size", 1, 4096), ("gradient_accumulation", 1, 1024), ("max_length", 8, 131072)):
        value = values.get(key)
        if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
            problems.append(f"{key} must be an integer in [{low}, {high}], got {value!r}")
    warmup = number("warmup_ratio")
    if warmup is None or not 0 <= warmup < 1:
        problems.append(f"warmup_ratio must be in [0, 1), got {values.get('warmup_ratio')!r}")
    decay = number("weight_decay")
    if decay is None or not 0 <= decay < 10:
        problems.append(f"weight_decay must be in [0, 10), got {values.get('weight_decay')!r}")
    if values.get("scheduler") not in Recipe.Scheduler.values:
        problems.append(f"scheduler must be one of {', '.join(Recipe.Scheduler.values)}, got {values.get('scheduler')!r}")
    if values.get("method") not in Recipe.Method.values:
        problems.append(f"method must be one of {', '.join(Recipe.Method.values)}, got {values.get('method')!r}")
    if values.get("method") == Recipe.Method.LORA:
        for key in ("lora_rank", "lora_alpha"):
            value = values.get(key)
            if not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= 4096:
                problems.append(f"{key} must be an integer in [1, 4096] for LoRA, got {value!r}")
    max_samples = values.get("max_samples")
    if max_samples is not None and (not isinstance(max_samples, int) or max_samples < 1):
        problems.append(f"max_samples must be empty or a positive integer, got {max_samples!r}")
    if problems:
        raise InvalidInput("bad recipe: " + "; ".join(problems))


def recipe_create(*, name: str, description: str = "", **values) -> Recipe:
    name = (name or "").strip()
    if not name:
        raise InvalidInput("a recipe needs a name")
    unknown = set(values) - set(RECIPE_FIELDS)
    if unknown:
        raise InvalidInput(f"unknown recipe field(s) {', '.join(sorted(unknown))}")
    defaults = {f.name: f.get_default() for f in Recipe._meta.get_fields() if f.name in RECIPE_FIELDS}
    merged = {**defaults, **values}
    recipe_validate(values=merged)
    return Recipe.objects.create(name=name, slug=_unique(Recipe, name), description=description, **merged)


# --- launching ------------------------------------------------------------------------------------

def _recipe_values(recipe: Recipe) -> dict:
    return {key: getattr(recipe, key) for key in RECIPE_FIELDS}


def _check_launch(*, dataset: Dataset | None, base_model: BaseModel, recipe: Recipe | None, benchmarks: list) -> None:
    if dataset is not None:
        if dataset.status != Dataset.Status.READY or not dataset.samples_file:
            raise InvalidInput(f"dataset {dataset.slug!r} is not ready (status {dataset.status})")
        if recipe is None:
            raise InvalidInput("a training job needs a recipe")
        recipe_validate(values=_recipe_values(recipe))
    elif recipe is not None:
        raise InvalidInput("a base-model reference job (no dataset) takes no recipe")
    try:
        base_model_check(path=base_model.path)
    except InvalidInput as exc:
        raise InvalidInput(f"base model {base_model.slug!r}: {exc.message}") from None
    if not benchmarks:
        raise InvalidInput("a job needs at least one benchmark to evaluate on")
    from training.evaluation.runner import benchmark_check_runnable

    for benchmark in benchmarks:
        benchmark_check_runnable(benchmark=benchmark)


def _check_dataset_visible(*, dataset: Dataset | None, user) -> None:
    from arena.selectors import dataset_visible_queryset

    if dataset is not None and not dataset_visible_queryset(viewer=user).filter(pk=dataset.pk).exists():
        raise Forbidden(f"cannot train on dataset {dataset.slug!r}: it is private to another user")


def config_hash(*, dataset: Dataset | None, base_model: BaseModel, recipe: Recipe | None, seed: int, benchmarks) -> str:
    payload = {
        "dataset": dataset.content_hash if dataset else None,
        "base_model": [base_model.path, base_model.revision],
        "recipe": _recipe_values(recipe) if recipe else None,
        "seed": seed,
        "benchmarks": sorted([b.slug, b.items_file, b.item_count] for b in benchmarks),
        "trainer": 1,
    }
    return hashlib.sha256(json.dumps(payload, sort_keys=True, default=str).encode()).hexdigest()


def _enqueue(job: Job) -> None:
    from training.tasks import job_run_task

    def send() -> None:
        result = job_run_task.delay(job.pk)
        Job.objects.filter(pk=job.pk, task_id="").update(task_id=result.id or "")

    transaction.on_commit(send)


def _validate_seed(seed) -> int:
    if not isinstance(seed, int) or isinstance(seed, bool) or not 0 <= seed < 2**31:
        raise InvalidInput(f"seed must be an integer in [0, 2^31), got {seed!r}")
    return seed


def job_create(
    *,
    dataset: Dataset | None,
    base_model: BaseModel,
    recipe: Recipe | None,
    seed: int,
    benchmarks: Iterable[Benchmark],
    user,
    batch: uuid.UUID | None = None,
) -> Job:
    """Validate and queue one job. ``dataset=None`` evaluates the base model itself (a reference run)."""
    benchmarks = list(benchmarks)
    _validate_seed(seed)
    _check_dataset_visible(dataset=dataset, user=user)
    _check_launch(dataset=dataset, base_model=base_model, recipe=recipe, benchmarks=benchmarks)
    with transaction.atomic():
        job = Job.objects.create(
            dataset=dataset, base_model=base_model, recipe=recipe, seed=seed, batch=batch or uuid.uuid4(),
            created_by=user if user is not None and user.is_authenticated else None,
            config_hash=config_hash(dataset=dataset, base_model=base_model, recipe=recipe, seed=seed, benchmarks=benchmarks),
        )
        job.benchmarks.set(benchmarks)
        _enqueue(job)
    return job


def jobs_launch_batch(
    *,
    dataset: Dataset | None,
    base_models: Iterable[BaseModel],
    seeds: Iterable[int],
    recipe: Recipe | None,
    benchmarks: Iterable[Benchmark],
    user,
) -> list[Job]:
    """One independent job per (base model, seed), sharing a batch id. Everything is validated before any is created."""
    base_models, seeds, benchmarks = list(base_models), list(seeds), list(benchmarks)
    if not base_models:
        raise InvalidInput("a batch needs at least one base model")
    if not seeds:
        raise InvalidInput("a batch needs at least one seed")
    for seed in seeds:
        _validate_seed(seed)
    if len(set(seeds)) != len(seeds):
        raise InvalidInput(f"seeds repeat: {seeds}")
    if len({m.pk for m in base_models}) != len(base_models):
        raise InvalidInput("base models repeat")
    if len(base_models) * len(seeds) > MAX_BATCH_JOBS:
        raise InvalidInput(f"a batch may hold at most {MAX_BATCH_JOBS} jobs, this one would hold {len(base_models) * len(seeds)}")
    _check_dataset_visible(dataset=dataset, user=user)
    for base_model in base_models:
        _check_launch(dataset=dataset, base_model=base_model, recipe=recipe, benchmarks=benchmarks)
    batch = uuid.uuid4()
    with transaction.atomic():
        return [
            job_create(dataset=dataset, base_model=m, recipe=recipe, seed=s, benchmarks=benchmarks, user=user, batch=batch)
            for m in base_models
            for s in seeds
        ]


def job_cancel(*, job: Job, user) -> Job:
    """Ask a job to stop. A queued job is cancelled at once; a running one stops at its next step."""
    if not job_may_control(job=job, viewer=user):
        raise Forbidden("only the job's creator or the dataset's owner may cancel it")
    if job.status in TERMINAL:
        raise Conflict(f"job {job.pk} has already finished ({job.status})")
    with transaction.atomic():
        Job.objects.filter(pk=job.pk).update(cancel_requested=True)
        Job.objects.filter(pk=job.pk, status=Job.Status.QUEUED).update(
            status=Job.Status.CANCELLED, finished_at=timezone.now(), stage="cancelled"
        )
    job.refresh_from_db()
    return job


def job_retry(*, job: Job, user) -> Job:
    """Re-run a failed or cancelled job from scratch (checkpoints and results are discarded)."""
    if not job_may_control(job=job, viewer=user):
        raise Forbidden("only the job's creator or the dataset's owner may retry it")
    if job.status not in (Job.Status.FAILED, Job.Status.CANCELLED):
        raise Conflict(f"only failed or cancelled jobs can be retried; job {job.pk} is {job.status}")
    _check_launch(dataset=job.dataset, base_model=job.base_model, recipe=job.recipe, benchmarks=list(job.benchmarks.all()))
    _remove_checkpoints(job)
    with transaction.atomic():
        job.results.all().delete()
        Job.objects.filter(pk=job.pk).update(
            status=Job.Status.QUEUED, progress=0.0, stage="queued", error="", cancel_requested=False, attempts=0,
            task_id="", metrics={}, checkpoint_dir="", started_at=None, finished_at=None,
            logs=Concat(F("logs"), Value(f"{timezone.now():%Y-%m-%d %H:%M:%S} retry requested\n")),
        )
        job.refresh_from_db()
        _enqueue(job)
    return job


# --- running (the gpu worker) ----------------------------------------------------------------------

def job_checkpoint_root(job: Job) -> Path:
    return Path(settings.ARENA_STORAGE) / "jobs" / str(job.pk) / "checkpoints"


def _remove_checkpoints(job: Job) -> None:
    shutil.rmtree(job_checkpoint_root(job).parent, ignore_errors=True)


def _environment(device) -> dict:
    import torch
    import transformers

    env = {
        "python": platform.python_version(),
        "torch": torch.__version__,
        "transformers": transformers.__version__,
        "device": str(device),
        "world_size": int(os.environ.get("WORLD_SIZE", "1")),
        "host": platform.node(),
    }
    if device.type == "cuda":
        env["gpu"] = torch.cuda.get_device_name(device)
    return env


class _SilentReporter(JobReporter):
    """Non-zero ranks of a multi-process run report nothing."""

    def __init__(self) -> None:
        super().__init__(0)

    def flush(self) -> None:
        self._pending.clear()
        self._fields.clear()


def _finish(job_id: int, *, status: str, reporter: JobReporter, message: str, error: str = "", **fields) -> None:
    reporter.log(message)
    reporter.update(force=True, status=status, error=error, finished_at=timezone.now(), **fields)


def _fault_injection_step() -> int | None:
    """Test hook: ``ARENA_FAULT_KILL_AT_STEP=N`` makes the worker SIGKILL itself after step N of a job's first attempt."""
    raw = os.environ.get("ARENA_FAULT_KILL_AT_STEP", "")
    return int(raw) if raw else None


class _TrainingHooks:
    def __init__(self, *, job: Job, reporter: JobReporter, train_share: float) -> None:
        self.job = job
        self.reporter = reporter
        self.train_share = train_share
        self.kill_at = _fault_injection_step() if job.attempts == 1 else None

    def on_step(self, *, step: int, total_steps: int, loss: float, tokens: int) -> None:
        self.reporter.update(progress=round(self.train_share * step / total_steps, 4), stage=f"training step {step}/{total_steps}")
        if step == 1 or step % 10 == 0 or step == total_steps:
            self.reporter.log(f"step {step}/{total_steps} loss {loss:.4f}")
        if self.kill_at is not None and step == self.kill_at:
            self.reporter.flush()
            os.kill(os.getpid(), signal.SIGKILL)

    def on_checkpoint(self, *, step: int, epoch_end: bool) -> None:
        self.reporter.log(f"checkpoint at step {step}" + (" (epoch end)" if epoch_end else ""))
        self.reporter.update(force=True, metrics={**self.job.metrics, "checkpoint_step": step})

    def should_stop(self) -> bool:
        return bool(Job.objects.filter(pk=self.job.pk).values_list("cancel_requested", flat=True).first())


def job_run(*, job_id: int) -> Job:
    """Run a job on this worker: train (resuming from a checkpoint if one exists), evaluate, record results.

    Idempotent: a redelivered task for a finished job does nothing. Under ``torchrun`` (WORLD_SIZE > 1)
    every rank calls this; only rank 0 touches the Job row.
    """
    if int(os.environ.get("RANK", "0")) != 0:
        job = Job.objects.select_related("dataset", "base_model", "recipe").get(pk=job_id)
        _execute(job, _SilentReporter())
        return job
    with transaction.atomic():
        job = Job.objects.select_for_update().get(pk=job_id)
        if job.status in TERMINAL:
            return job
        if job.cancel_requested:
            Job.objects.filter(pk=job.pk).update(status=Job.Status.CANCELLED, finished_at=timezone.now(), stage="cancelled")
            job.refresh_from_db()
            return job
        resumed = job.status == Job.Status.RUNNING
        Job.objects.filter(pk=job.pk).update(
            status=Job.Status.RUNNING, attempts=F("attempts") + 1, started_at=job.started_at or timezone.now(),
            stage="loading", checkpoint_dir=str(job_checkpoint_root(job)),
        )
    job = Job.objects.select_related("dataset", "base_model", "recipe").get(pk=job_id)
    reporter = JobReporter(job.pk)
    if resumed:
        reporter.log(f"attempt {job.attempts}: the previous worker stopped without finishing; resuming")
    if job.attempts > MAX_ATTEMPTS:
        _finish(job.pk, status=Job.Status.FAILED, reporter=reporter, message="giving up",
                error=f"the job's worker died {job.attempts - 1} times; giving up (retry it to start over)", stage="failed")
        _remove_checkpoints(job)
        job.refresh_from_db()
        return job
    try:
        _execute(job, reporter)
    except EvaluationCancelled:
        _finish(job.pk, status=Job.Status.CANCELLED, reporter=reporter, message="cancelled during evaluation", stage="cancelled")
        _remove_checkpoints(job)
    except (ArenaError, ValueError, FileNotFoundError) as exc:
        message = exc.message if isinstance(exc, ArenaError) else str(exc)
        _finish(job.pk, status=Job.Status.FAILED, reporter=reporter, message=f"failed: {message}", error=message, stage="failed")
        _remove_checkpoints(job)
    except Exception as exc:
        logger.exception("job %s crashed", job.pk)
        message = f"internal error: {type(exc).__name__}: {exc}"
        _finish(job.pk, status=Job.Status.FAILED, reporter=reporter, message=message, error=message, stage="failed")
        _remove_checkpoints(job)
    job.refresh_from_db()
    return job


def _execute(job: Job, reporter: JobReporter) -> None:
    import torch

    from training.evaluation.runner import evaluate_benchmark
    from training.model_loading import load_model_and_tokenizer, parameter_count, pick_device
    from training.sft.data import load_examples
    from training.sft.runtime import runtime_from_env
    from training.sft.trainer import TrainConfig, train

    runtime = runtime_from_env(pick_device())
    if runtime.device.type == "cpu":
        torch.set_num_threads(max(1, settings.ARENA_CPU_THREADS))
    reporter.update(force=True, device=str(runtime.device), environment=_environment(runtime.device))
    reporter.log(f"loading base model {job.base_model.slug} on {runtime.device}")
    model, tokenizer = load_model_and_tokenizer(path=job.base_model.path, device=runtime.device)
    metrics: dict = {"parameter_count": parameter_count(model)}
    benchmarks = list(job.benchmarks.all())
    train_share = 0.8 if job.dataset_id else 0.0

    if job.dataset_id:
        recipe = job.recipe
        reporter.update(force=True, stage="tokenizing")
        examples = load_examples(
            samples_file=job.dataset.samples_file, tokenizer=tokenizer, max_length=recipe.max_length,
            max_samples=recipe.max_samples,
        )
        reporter.log(f"{len(examples)} training examples, {sum(e.trained_tokens for e in examples)} assistant tokens")
        config = TrainConfig(
            learning_rate=recipe.learning_rate, epochs=recipe.epochs, batch_size=recipe.batch_size,
            gradient_accumulation=recipe.gradient_accumulation, scheduler=recipe.scheduler,
            warmup_ratio=recipe.warmup_ratio, weight_decay=recipe.weight_decay, method=recipe.method,
            lora_rank=recipe.lora_rank, lora_alpha=recipe.lora_alpha, seed=job.seed,
            checkpoint_every=settings.ARENA_CHECKPOINT_EVERY,
        )
        job.metrics = metrics
        outcome = train(
            model=model, examples=examples, pad_id=tokenizer.pad_token_id, config=config,
            checkpoint_root=str(job_checkpoint_root(job)), runtime=runtime,
            hooks=_TrainingHooks(job=job, reporter=reporter, train_share=train_share),
        )
        if outcome.resumed_from_step is not None:
            reporter.log(f"resumed from checkpoint at step {outcome.resumed_from_step}")
        if outcome.cancelled:
            _finish(job.pk, status=Job.Status.CANCELLED, reporter=reporter, message=f"cancelled at step {outcome.steps}",
                    stage="cancelled")
            _remove_checkpoints(job)
            return
        metrics.update({
            "train_examples": len(examples),
            "train_steps": outcome.total_steps,
            "resumed_from_step": outcome.resumed_from_step,
            "train_loss_first": outcome.losses[0] if outcome.losses else None,
            "train_loss_last": outcome.losses[-1] if outcome.losses else None,
            "train_tokens_this_attempt": outcome.tokens,
            "train_seconds_this_attempt": round(outcome.seconds, 3),
            "train_tokens_per_s": round(outcome.tokens_per_second, 1),
        })
        if runtime.device.type == "cuda" and outcome.tokens_per_second:
            from training.flops import gpu_peak_flops, mfu

            peak = gpu_peak_flops(torch.cuda.get_device_name(runtime.device))
            if peak:
                metrics["mfu"] = round(mfu(parameters=metrics["parameter_count"], tokens_per_s=outcome.tokens_per_second, peak_flops=peak), 4)
        reporter.log(f"training done: {outcome.total_steps} steps, last loss {metrics['train_loss_last']}")
    if not runtime.is_main:
        return

    scores = {}
    eval_started = time.perf_counter()
    for n, benchmark in enumerate(benchmarks):
        reporter.update(force=True, stage=f"evaluating {benchmark.slug}"[:40],
                        progress=round(train_share + (1 - train_share) * n / len(benchmarks), 4))
        hooks = _TrainingHooks(job=job, reporter=reporter, train_share=train_share)
        started = time.perf_counter()
        share = (1 - train_share) / len(benchmarks)
        start = train_share + share * n
        scores[benchmark.pk] = (benchmark, evaluate_benchmark(
            benchmark=benchmark, model=model, tokenizer=tokenizer, should_stop=hooks.should_stop,
            progress=lambda done, start=start, share=share: reporter.update(progress=round(start + share * done, 4)),
        ))
        score = scores[benchmark.pk][1]
        reporter.log(f"{benchmark.slug}: {score.score:.4f} ± {score.stderr:.4f} on {score.n_items} items "
                     f"({time.perf_counter() - started:.1f}s)")
    metrics["eval_seconds"] = round(time.perf_counter() - eval_started, 3)
    with transaction.atomic():
        current = Job.objects.select_for_update().get(pk=job.pk)
        if current.cancel_requested:
            raise EvaluationCancelled()
        EvalResult.objects.filter(job=job).delete()
        EvalResult.objects.bulk_create([
            EvalResult(job=job, benchmark=benchmark, **score.result_fields())
            for benchmark, score in scores.values()
        ])
        _finish(job.pk, status=Job.Status.SUCCEEDED, reporter=reporter, message="succeeded", progress=1.0,
                stage="done", metrics={**job.metrics, **metrics})
    _remove_checkpoints(job)
