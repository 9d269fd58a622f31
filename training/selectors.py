"""Reads for training and evaluation."""
from __future__ import annotations

import json
import uuid
from collections.abc import Iterator

from django.db.models import Q, QuerySet

from arena.errors import InvalidInput, NotFound
from arena.models import Dataset
from arena.permissions import dataset_visible_queryset
from arena.storage import iter_batches, local_copy, read_rows
from training.models import BaseModel, Benchmark, EvalResult, Job, Recipe


def benchmark_iter_items(*, benchmark: Benchmark) -> Iterator[dict]:
    """Stream a benchmark's items, each with ``prompt`` and ``answer`` as text (its kind says which columns they
    are: ``question``/``answer`` for GSM8K, ``prompt``/``canonical_solution`` for HumanEval...), so that readers
    such as the contamination scan need not know the kinds."""
    from training.evaluation.kinds.base import kind_get

    kind = kind_get(benchmark.kind)
    for item in _raw_items(benchmark):
        prompt, answer = kind.reference_text(item)
        yield {**item, "prompt": prompt, "answer": answer if isinstance(answer, str) else None}


def _raw_items(benchmark: Benchmark) -> Iterator[dict]:
    name = benchmark.items_file
    if name.endswith(".parquet"):
        for batch in iter_batches(name):
            yield from batch.to_pylist()
        return
    with local_copy(name) as path, open(path, encoding="utf-8") as handle:
        for line_no, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                yield json.loads(line)
            except json.JSONDecodeError as exc:
                raise InvalidInput(f"benchmark {benchmark.slug}: line {line_no} is not valid JSON ({exc.msg})") from None


def eval_result_get(*, viewer, job_id: int, benchmark_slug: str) -> EvalResult:
    """A job's result on one benchmark; NotFound when the viewer may not see the job (as ``job_get``)."""
    job = job_get(viewer=viewer, job_id=job_id)
    try:
        return EvalResult.objects.select_related("benchmark").get(job=job, benchmark__slug=benchmark_slug)
    except EvalResult.DoesNotExist:
        raise NotFound(f"job {job_id} has no result on benchmark {benchmark_slug!r}") from None


def eval_result_items_page(*, result: EvalResult, offset: int, limit: int) -> list[dict]:
    """Per-item outputs ``offset`` .. ``offset+limit`` of a result (prompt, response, target, metrics, doc)."""
    from training.evaluation.outputs import decode_row

    if not result.items_file:
        return []
    return [decode_row(row) for row in read_rows(result.items_file, offset=offset, limit=limit)]


def job_visible_queryset(*, viewer) -> QuerySet[Job]:
    """Jobs on datasets the viewer can see, plus base-model reference jobs (no dataset)."""
    visible = dataset_visible_queryset(viewer=viewer).values("pk")
    return Job.objects.filter(Q(dataset__isnull=True) | Q(dataset__in=visible))


def job_list(
    *, viewer, status: str = "", dataset: str = "", base_model: str = "", batch: str = "", created_by: str = ""
) -> QuerySet[Job]:
    qs = job_visible_queryset(viewer=viewer).select_related("dataset", "base_model", "recipe", "created_by")
    if status:
        if status not in Job.Status.values:
            raise InvalidInput(f"unknown status {status!r}; expected one of {', '.join(Job.Status.values)}")
        qs = qs.filter(status=status)
    if dataset:
        qs = qs.filter(dataset__slug=dataset)
    if base_model:
        qs = qs.filter(base_model__slug=base_model)
    if batch:
        try:
            uuid.UUID(batch)
        except ValueError:
            raise InvalidInput(f"batch {batch!r} is not a UUID") from None
        qs = qs.filter(batch=batch)
    if created_by:
        qs = qs.filter(created_by__username=created_by)
    return qs


def job_get(*, viewer, job_id: int) -> Job:
    """The job, or NotFound (a job on someone else's private dataset is indistinguishable from a missing one)."""
    try:
        return (
            job_visible_queryset(viewer=viewer)
            .select_related("dataset", "dataset__owner", "base_model", "recipe", "created_by")
            .prefetch_related("benchmarks", "results__benchmark")
            .get(pk=job_id)
        )
    except Job.DoesNotExist:
        raise NotFound(f"no job {job_id}") from None


def job_weights_directory(*, job: Job) -> str:
    """The directory of the job's kept weights, or NotFound saying why there is none."""
    import os

    if not job.weights_dir or not os.path.isdir(job.weights_dir):
        raise NotFound(f"job {job.pk} has no kept weights (only succeeded training jobs keep them, "
                       "and only the newest ARENA_KEEP_WEIGHTS jobs' weights are retained)")
    return job.weights_dir


def base_model_list() -> QuerySet[BaseModel]:
    return BaseModel.objects.all()


def recipe_list() -> QuerySet[Recipe]:
    return Recipe.objects.all()


def benchmark_kind_list() -> list[dict]:
    from training.evaluation.kinds.base import KINDS, kind_names

    return [
        {"name": k.name, "title": k.title, "domain": k.domain, "metrics": dict(k.metrics), "columns": list(k.columns),
         "output_type": k.output_type, "num_fewshot": k.num_fewshot, "max_gen_toks": k.max_gen_toks,
         "chat_template": k.chat_template, "executes_code": k.executes_code}
        for k in (KINDS[name] for name in kind_names())
    ]


def benchmark_list(*, domain: str = "") -> QuerySet[Benchmark]:
    qs = Benchmark.objects.all()
    return qs.filter(domain=domain) if domain else qs


def _by_slug(model, slug: str, what: str):
    try:
        return model.objects.get(slug=slug)
    except model.DoesNotExist:
        raise NotFound(f"no {what} {slug!r}") from None


def base_model_get(*, slug: str) -> BaseModel:
    return _by_slug(BaseModel, slug, "base model")


def recipe_get(*, slug: str) -> Recipe:
    return _by_slug(Recipe, slug, "recipe")


def benchmarks_by_slugs(*, slugs: list[str]) -> list[Benchmark]:
    """The named benchmarks in the given order; an unknown slug is an error naming it."""
    found = {b.slug: b for b in Benchmark.objects.filter(slug__in=slugs)}
    unknown = [s for s in slugs if s not in found]
    if unknown:
        raise InvalidInput(f"unknown benchmark(s) {', '.join(unknown)}")
    return [found[s] for s in dict.fromkeys(slugs)]


def base_models_by_slugs(*, slugs: list[str]) -> list[BaseModel]:
    found = {m.slug: m for m in BaseModel.objects.filter(slug__in=slugs)}
    unknown = [s for s in slugs if s not in found]
    if unknown:
        raise InvalidInput(f"unknown base model(s) {', '.join(unknown)}")
    return [found[s] for s in dict.fromkeys(slugs)]


def dataset_jobs_results(*, dataset: Dataset) -> dict:
    """The dataset's jobs (newest first, at most 50) with their per-benchmark scores (two queries)."""
    jobs = list(Job.objects.filter(dataset=dataset).select_related("base_model", "recipe")[:50])
    results = EvalResult.objects.filter(job__in=jobs).select_related("benchmark").order_by("benchmark__domain",
                                                                                         "benchmark__name")
    benchmarks: dict[str, str] = {}
    scores: dict[int, dict[str, float]] = {}
    for r in results:
        benchmarks[r.benchmark.slug] = r.benchmark.name
        scores.setdefault(r.job_id, {})[r.benchmark.slug] = r.score
    return {
        "benchmarks": [{"slug": s, "name": n} for s, n in benchmarks.items()],
        "jobs": [{"job": j, "scores": [scores.get(j.pk, {}).get(s) for s in benchmarks]} for j in jobs],
    }
