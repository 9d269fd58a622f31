"""What every evaluator shares: prompt rendering, the result type, the binomial standard error."""
from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field

DETAIL_EXAMPLES = 20  # how many per-item examples a result keeps (the first ones, in file order)


class EvaluationCancelled(Exception):
    """Raised between batches when the job's cancel flag is set."""


@dataclass
class BenchmarkScore:
    score: float
    n_items: int
    stderr: float
    details: dict = field(default_factory=dict)


def binomial_stderr(p: float, n: int) -> float:
    return math.sqrt(p * (1.0 - p) / n) if n else 0.0


def score_from_hits(hits: list[bool], *, details: dict) -> BenchmarkScore:
    n = len(hits)
    if n == 0:
        raise ValueError("the benchmark has no items")
    p = sum(hits) / n
    return BenchmarkScore(score=p, n_items=n, stderr=binomial_stderr(p, n), details=details)


def chat_prompt(tokenizer, prompt: str, *, system: str = "") -> str:
    """The text a chat model sees before answering ``prompt`` (its chat template, generation prompt added)."""
    messages = [{"role": "system", "content": system}] if system else []
    messages.append({"role": "user", "content": prompt})
    return tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)


def check_stop(should_stop: Callable[[], bool] | None) -> None:
    if should_stop is not None and should_stop():
        raise EvaluationCancelled()


def batched(items: list, size: int):
    for start in range(0, len(items), size):
        yield items[start:start + size]
