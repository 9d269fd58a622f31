"""Demo benchmarks from the task family (held-out seed); they run through lm-eval as user-kind tasks."""
from __future__ import annotations

from dataclasses import dataclass

from training.demo.tasks import addition, comparison, repeat_letters

BENCHMARK_SEED = 424242
ITEMS_PER_BENCHMARK = 100


@dataclass(frozen=True)
class DemoBenchmark:
    name: str
    domain: str
    kind: str
    metric: str
    description: str
    items: list[dict]


def _items(generator, *, n: int, seed: int, as_choice: bool = False, max_new_tokens: int = 8) -> list[dict]:
    import random

    rng = random.Random(seed)
    items = []
    for i in range(n):
        p = generator(rng)
        if as_choice:
            items.append({"id": f"{p.task}-{i}", "prompt": p.prompt, "choices": list(p.choices),
                          "answer_index": p.choices.index(p.answer)})
        else:
            items.append({"id": f"{p.task}-{i}", "prompt": p.prompt, "answer": p.answer, "max_new_tokens": max_new_tokens})
    return items


def demo_benchmarks(*, n: int = ITEMS_PER_BENCHMARK) -> list[DemoBenchmark]:
    return [
        DemoBenchmark("Demo addition", "math", "generation", "numeric_match",
                      "Single-digit addition; the last number of the answer is compared.",
                      _items(addition, n=n, seed=BENCHMARK_SEED, max_new_tokens=4)),
        DemoBenchmark("Demo comparison", "reasoning", "multiple_choice", "accuracy",
                      "Which of two digits is larger, by log-likelihood of each choice.",
                      _items(comparison, n=n, seed=BENCHMARK_SEED + 1, as_choice=True)),
        DemoBenchmark("Demo repeat", "general", "generation", "exact_match",
                      "Repeat 3-5 letters exactly.", _items(repeat_letters, n=n, seed=BENCHMARK_SEED + 2)),
    ]
