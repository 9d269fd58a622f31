"""Evaluate a loaded model on one registered benchmark through lm-evaluation-harness.

The contract with the job runner: ``evaluate_benchmark(benchmark=..., model=..., tokenizer=..., should_stop=...)``
with an in-memory Hugging Face model (adapters merged) returns a ``BenchmarkScore`` whose ``result_fields()``
are the EvalResult row: the score and stderr as lm-eval reports them, the harness version, backend, the task
YAML and its hash, the few-shot count, the generation settings and the per-item outputs file.
"""
from __future__ import annotations

import importlib.metadata
from collections.abc import Callable

from django.conf import settings

from arena.errors import InvalidInput
from arena.storage import delete_quietly, local_copy
from training.evaluation.code_exec import require_code_execution
from training.evaluation.harness import language_model, resolve_backend, run_task, task_spec
from training.evaluation.kinds.base import BenchmarkKind, TaskOptions, kind_get
from training.evaluation.common import BenchmarkScore
from training.evaluation.outputs import sample_rows, store_rows
from training.models import Benchmark


def task_options(*, benchmark: Benchmark, kind: BenchmarkKind, tokenizer=None) -> TaskOptions:
    """The benchmark's settings over its kind's defaults; a chat template is used only if the tokenizer has one."""
    chat = kind.chat_template if benchmark.chat_template is None else benchmark.chat_template
    if tokenizer is not None and not getattr(tokenizer, "chat_template", None):
        chat = False
    max_gen = benchmark.max_gen_toks or kind.max_gen_toks
    return TaskOptions(
        num_fewshot=kind.num_fewshot if benchmark.num_fewshot is None else benchmark.num_fewshot,
        max_gen_toks=max_gen if kind.output_type == "generate_until" else None,
        chat_template=chat,
    )


def benchmark_check_runnable(*, benchmark: Benchmark) -> BenchmarkKind:
    """Everything that can be known before a job starts: the kind exists, its metric fits, this deployment may
    run it (code execution opt-in), and its run-time requirements are here."""
    kind = kind_get(benchmark.kind)
    kind.metric_key(benchmark.metric)
    if not benchmark.items_file or not benchmark.item_count:
        raise InvalidInput(f"benchmark {benchmark.slug!r} has no items")
    if kind.executes_code:
        require_code_execution(benchmark.slug)
    kind.check_ready()
    return kind


def _number(value) -> float | None:
    return float(value) if isinstance(value, (int, float)) else None  # lm-eval writes "N/A" when it has none


def evaluate_benchmark(
    *,
    benchmark: Benchmark,
    model,
    tokenizer,
    should_stop: Callable[[], bool] | None = None,
    progress: Callable[[float], None] | None = None,
    backend: str | None = None,
) -> BenchmarkScore:
    kind = benchmark_check_runnable(benchmark=benchmark)
    metric_key = kind.metric_key(benchmark.metric)
    metric, filter_name = metric_key.split(",", 1)
    options = task_options(benchmark=benchmark, kind=kind, tokenizer=tokenizer)
    data_format = "parquet" if benchmark.items_file.endswith(".parquet") else "json"
    spec = task_spec(kind=kind, slug=benchmark.slug, options=options, metric=benchmark.metric, data_format=data_format)
    backend = resolve_backend(model=model, wanted=backend)
    batch_size = settings.ARENA_EVAL_BATCH_SIZE
    model.eval()
    with local_copy(benchmark.items_file, suffix="." + data_format) as data_path, language_model(
        model=model, tokenizer=tokenizer, backend=backend, batch_size=batch_size, max_gen_toks=options.max_gen_toks,
        should_stop=should_stop, progress=progress,
    ) as lm:
        output = run_task(lm=lm, spec=spec, data_path=data_path, limit=benchmark.limit, chat_template=options.chat_template)
    results = output["results"][spec.name]
    score = _number(results.get(metric_key))
    if score is None:
        raise InvalidInput(f"benchmark {benchmark.slug}: lm-eval reported no {metric_key!r} (got {sorted(results)})")
    rows = sample_rows(output["samples"][spec.name], filter_name=filter_name)
    items_file = store_rows(rows)
    try:
        task_config = output["configs"][spec.name]
        generation = {
            "generation_kwargs": task_config.get("generation_kwargs"),
            "chat_template": options.chat_template,
            "fewshot_as_multiturn": options.chat_template,
            "batch_size": batch_size,
            "limit": benchmark.limit,
            "output_type": task_config.get("output_type"),
        }
        return BenchmarkScore(
            score=score,
            stderr=_number(results.get(f"{metric}_stderr,{filter_name}")),
            n_items=int(output["n-samples"][spec.name]["effective"]),
            details={
                "metric": benchmark.metric,
                "all_metrics": {k: v for k, v in results.items() if "," in k and isinstance(v, (int, float))},
                "task": spec.name,
                "lm_eval_task_version": output.get("versions", {}).get(spec.name),
            },
            metric=metric_key,
            harness_version="lm-eval " + importlib.metadata.version("lm_eval"),
            backend=backend,
            task_config=spec.yaml_text,
            task_config_hash=spec.config_hash,
            num_fewshot=int(output.get("n-shot", {}).get(spec.name, options.num_fewshot)),
            generation_settings=generation,
            items_file=items_file,
        )
    except BaseException:
        delete_quietly(items_file)
        raise
