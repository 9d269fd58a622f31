"""Demo training sets of known quality, all drawn from the same task family (training.demo.tasks).

* clean       every label correct
* noisy       half of the labels replaced by the task's systematic wrong answer
* duplicates  the same number of samples, but only ``unique`` distinct ones repeated
* mix         the first half of clean + the first half of noisy (declared as a mixture of both)

Expected value for a model trained on them: clean > mix > noisy / duplicates.
"""
from __future__ import annotations

import json
import random
from dataclasses import dataclass

from training.demo.tasks import Problem, problems

DEFAULT_SIZE = 2000
DUPLICATE_UNIQUE = 40


@dataclass(frozen=True)
class DemoDataset:
    key: str
    name: str
    description: str
    records: list[dict]
    parents: tuple[str, ...] = ()


def _record(problem: Problem, *, answer: str, uid: str) -> dict:
    return {
        "id": uid,
        "messages": [{"role": "user", "content": problem.prompt}, {"role": "assistant", "content": answer}],
    }


def clean(*, size: int = DEFAULT_SIZE, seed: int = 1) -> list[dict]:
    return [_record(p, answer=p.answer, uid=f"clean-{i}") for i, p in enumerate(problems(n=size, seed=seed))]


def noisy(*, size: int = DEFAULT_SIZE, seed: int = 2, wrong_fraction: float = 0.5) -> list[dict]:
    rng = random.Random(seed + 10_000)
    return [
        _record(p, answer=p.wrong if rng.random() < wrong_fraction else p.answer, uid=f"noisy-{i}")
        for i, p in enumerate(problems(n=size, seed=seed))
    ]


def duplicates(*, size: int = DEFAULT_SIZE, seed: int = 3, unique: int = DUPLICATE_UNIQUE) -> list[dict]:
    distinct = problems(n=unique, seed=seed)
    return [_record(distinct[i % unique], answer=distinct[i % unique].answer, uid=f"dup-{i}") for i in range(size)]


def mix(*, size: int = DEFAULT_SIZE) -> list[dict]:
    half = size // 2
    return [{**r, "id": f"mix-{r['id']}"} for r in clean(size=size)[:half] + noisy(size=size)[:half]]


def demo_datasets(*, size: int = DEFAULT_SIZE) -> list[DemoDataset]:
    return [
        DemoDataset("clean", "Demo arithmetic+logic (clean)", "Procedural tasks, every label correct.", clean(size=size)),
        DemoDataset("noisy", "Demo arithmetic+logic (noisy labels)",
                    "Same task family, 50% of answers replaced by a systematic wrong answer.", noisy(size=size)),
        DemoDataset("duplicates", "Demo arithmetic+logic (heavy duplicates)",
                    f"Same task family, only {DUPLICATE_UNIQUE} distinct samples repeated.", duplicates(size=size)),
        DemoDataset("mix", "Demo arithmetic+logic (clean+noisy mix)",
                    "Half of the clean set plus half of the noisy set.", mix(size=size), parents=("clean", "noisy")),
    ]


def to_jsonl(records: list[dict]) -> bytes:
    return "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records).encode()
