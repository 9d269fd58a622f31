"""Writes for training and evaluation: register base models, recipes and benchmarks; launch, cancel and
retry jobs; register a job's kept weights as a new base model.

A job's life: ``job_create`` validates everything up front (recipe values, base model path, benchmark
kinds) and queues ``training.tasks.job_run_task`` on the ``gpu`` queue once the row is committed. The
worker side (train through the engine, evaluate, record) is ``training.job_runner``; under
``ARENA_TRAIN_LAUNCHER=accelerate`` the task runs it through ``training.launcher``.
"""
from __future__ import annotations

import hashlib
import json
import logging
import os
import uuid
from collections.abc import Iterable

from django.db import transaction
from django.db.models import F, Value
from django.db.models.functions import Concat
from django.utils import timezone
from django.utils.text import slugify

from arena.errors import Conflict, Forbidden, InvalidInput
from arena.queueing import enqueue_on_commit
from arena.models import Dataset
from arena.permissions import dataset_can_train, job_can_control, job_can_publish_weights
from arena.storage import delete_job_work, delete_quietly
from training.job_runner import TERMINAL
from arena.model_loading.base_models import base_model_check, build_tiny_tokenizer
from training.models import BaseModel, Benchmark, Job, Recipe
from training.recipes import RECIPE_FIELDS, recipe_fields_check, recipe_validate, recipe_values  # noqa: F401

logger = logging.getLogger(__name__)

MAX_BATCH_JOBS = 200


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
        from arena.model_loading.base_models import build_tiny_model, parameter_count as count

        parameter_count = count(build_tiny_model(spec.tiny_config, build_tiny_tokenizer()))
    return BaseModel.objects.create(
        name=name, slug=_unique(BaseModel, name), path=path.strip(), revision=revision, description=description,
        parameter_count=parameter_count,
    )


def recipe_create(*, name: str, description: str = "", **values) -> Recipe:
    name = (name or "").strip()
    if not name:
        raise InvalidInput("a recipe needs a name")
    recipe_fields_check(names=values)
    defaults = {f.name: f.get_default() for f in Recipe._meta.get_fields() if f.name in RECIPE_FIELDS}
    merged = {**defaults, **values}
    recipe_validate(values=merged)
    return Recipe.objects.create(name=name, slug=_unique(Recipe, name), description=description, **merged)


# --- launching ------------------------------------------------------------------------------------

def _check_launch(*, dataset: Dataset | None, base_model: BaseModel, recipe: Recipe | None, benchmarks: list) -> None:
    if dataset is not None:
        if dataset.status != Dataset.Status.READY or not dataset.samples_file:
            raise InvalidInput(f"dataset {dataset.slug!r} is not ready (status {dataset.status})")
        if recipe is None:
            raise InvalidInput("a training job needs a recipe")
        recipe_validate(values=recipe_values(recipe))
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
    if dataset is not None and not dataset_can_train(dataset=dataset, user=user):
        raise Forbidden(f"cannot train on dataset {dataset.slug!r}: it is private to another user")


def config_hash(*, dataset: Dataset | None, base_model: BaseModel, recipe: Recipe | None, seed: int, benchmarks) -> str:
    payload = {
        "dataset": dataset.content_hash if dataset else None,
        "base_model": [base_model.path, base_model.revision],
        "recipe": recipe_values(recipe) if recipe else None,
        "seed": seed,
        "benchmarks": sorted([b.slug, b.items_file, b.item_count] for b in benchmarks),
        "trainer": "trl-sft-2",
    }
    return hashlib.sha256(json.dumps(payload, sort_keys=True, default=str).encode()).hexdigest()


def _enqueue(job: Job) -> None:
    from training.tasks import job_run_task

    enqueue_on_commit(
        task=job_run_task,
        args=[job.pk],
        on_sent=lambda task_id: Job.objects.filter(pk=job.pk, task_id="").update(task_id=task_id),
    )


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
    enqueue: bool = True,
) -> Job:
    """Validate and queue one job. ``dataset=None`` evaluates the base model itself (a reference run).
    ``enqueue=False`` only records it, for a process that runs it itself (``manage.py training_run_job``)."""
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
        if enqueue:
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
    if not job_can_control(job=job, user=user):
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
    if not job_can_control(job=job, user=user):
        raise Forbidden("only the job's creator or the dataset's owner may retry it")
    if job.status not in (Job.Status.FAILED, Job.Status.CANCELLED):
        raise Conflict(f"only failed or cancelled jobs can be retried; job {job.pk} is {job.status}")
    _check_launch(dataset=job.dataset, base_model=job.base_model, recipe=job.recipe, benchmarks=list(job.benchmarks.all()))
    delete_job_work(job.pk)
    with transaction.atomic():
        stale = list(job.results.values_list("items_file", flat=True))
        job.results.all().delete()
        transaction.on_commit(lambda: [delete_quietly(name) for name in stale])
        Job.objects.filter(pk=job.pk).update(
            status=Job.Status.QUEUED, progress=0.0, stage="queued", error="", cancel_requested=False, attempts=0,
            task_id="", metrics={}, checkpoint_dir="", weights_dir="", started_at=None, finished_at=None,
            logs=Concat(F("logs"), Value(f"{timezone.now():%Y-%m-%d %H:%M:%S} retry requested\n")),
        )
        job.refresh_from_db()
        _enqueue(job)
    return job


# --- fine-tuned weights as a new base model ------------------------------------------------------

def base_model_from_job(*, job: Job, user, name: str, description: str = "") -> BaseModel:
    """Register a succeeded job's kept weights as a base model (anyone may then fine-tune or evaluate it).

    Base models are visible to everyone, so a model trained on a dataset that is not public may only be
    registered by staff. Registered weights are exempt from ARENA_KEEP_WEIGHTS retention."""
    if not job_can_control(job=job, user=user):
        raise Forbidden("only the job's creator, the dataset's owner or staff may register its weights as a base model")
    if job.status != Job.Status.SUCCEEDED or not job.dataset_id:
        raise Conflict(f"job {job.pk} is not a succeeded training job ({job.status}); it has no fine-tuned weights")
    if not job.weights_dir or not os.path.isdir(job.weights_dir):
        raise Conflict(f"job {job.pk} kept no weights (removed by ARENA_KEEP_WEIGHTS retention, or not kept)")
    if not job_can_publish_weights(job=job, user=user):
        raise Forbidden(f"job {job.pk} was trained on a dataset that is not public; only staff may publish it as a base model")
    description = description or (
        f"{job.base_model.name} fine-tuned on {job.dataset.slug} with recipe {job.recipe.slug}, seed {job.seed} (job {job.pk})"
    )
    model = base_model_create(name=name or f"{job.base_model.name} + {job.dataset.slug} (job {job.pk})",
                              path=job.weights_dir, revision=f"job-{job.pk}", description=description)
    BaseModel.objects.filter(pk=model.pk).update(parameter_count=job.metrics.get("parameter_count"))
    model.refresh_from_db()
    return model
