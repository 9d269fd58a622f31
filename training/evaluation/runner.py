"""Run one benchmark against a loaded model: load and check its items, dispatch on its kind."""
from __future__ import annotations

from collections.abc import Callable

from arena.errors import InvalidInput
from training.benchmark_items import METRICS_BY_KIND, check_item
from training.evaluation.code_exec import evaluate_code
from training.evaluation.common import BenchmarkScore
from training.evaluation.generation import evaluate_generation
from training.evaluation.multiple_choice import evaluate_multiple_choice
from training.models import Benchmark
from training.selectors import benchmark_iter_items


def benchmark_items(*, benchmark: Benchmark) -> list[dict]:
    """All items, each checked against the benchmark's kind (a corrupt file fails with the line at fault)."""
    if benchmark.kind not in METRICS_BY_KIND:
        raise InvalidInput(f"benchmark {benchmark.slug}: unknown kind {benchmark.kind!r}")
    if benchmark.metric not in METRICS_BY_KIND[benchmark.kind]:
        raise InvalidInput(
            f"benchmark {benchmark.slug}: metric {benchmark.metric!r} does not fit kind {benchmark.kind!r} "
            f"(expected {', '.join(METRICS_BY_KIND[benchmark.kind])})"
        )
    items = []
    for n, item in enumerate(benchmark_iter_items(benchmark=benchmark), start=1):
        try:
            check_item(item, kind=benchmark.kind, where=f"item {n}")
        except InvalidInput as exc:
            raise InvalidInput(f"benchmark {benchmark.slug}: {exc.message}") from None
        items.append(item)
    if not items:
        raise InvalidInput(f"benchmark {benchmark.slug}: the item file has no items")
    return items


def evaluate_benchmark(
    *, benchmark: Benchmark, model, tokenizer, should_stop: Callable[[], bool] | None = None
) -> BenchmarkScore:
    items = benchmark_items(benchmark=benchmark)
    if benchmark.kind == Benchmark.Kind.GENERATION:
        return evaluate_generation(
            model=model, tokenizer=tokenizer, items=items, metric=benchmark.metric, should_stop=should_stop
        )
    if benchmark.kind == Benchmark.Kind.MULTIPLE_CHOICE:
        return evaluate_multiple_choice(model=model, tokenizer=tokenizer, items=items, should_stop=should_stop)
    return evaluate_code(
        model=model, tokenizer=tokenizer, items=items, benchmark_slug=benchmark.slug, should_stop=should_stop
    )
