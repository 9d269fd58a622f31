"""The demo's procedural task family: single-digit addition (math), "which is larger" (reasoning,
multiple choice) and "repeat the letters" (general). Every generator is a pure function of its
``random.Random``, so a seed fixes every dataset and benchmark exactly.

Each task also has a *corrupted* answer: a systematic wrong rule (sum + 1, the smaller number, the
letters reversed). Noisy datasets use it for half their labels, so a model trained on them sees two
competing answers for the same question, which is what degrades it.
"""
from __future__ import annotations

import random
from dataclasses import dataclass

LETTERS = "abcdefgh"
TASKS = ("math", "reasoning", "general")


@dataclass(frozen=True)
class Problem:
    task: str
    prompt: str
    answer: str
    wrong: str
    choices: tuple[str, ...] = ()


def addition(rng: random.Random) -> Problem:
    a, b = rng.randint(0, 9), rng.randint(0, 9)
    return Problem("math", f"What is {a}+{b}?", str(a + b), str(a + b + 1))


def comparison(rng: random.Random) -> Problem:
    a, b = rng.sample(range(10), 2)
    return Problem("reasoning", f"Which is larger, {a} or {b}?", str(max(a, b)), str(min(a, b)), (str(a), str(b)))


def repeat_letters(rng: random.Random) -> Problem:
    letters = "".join(rng.choice(LETTERS) for _ in range(rng.randint(3, 5)))
    reversed_letters = letters[::-1]
    wrong = reversed_letters if reversed_letters != letters else letters + letters[-1]
    return Problem("general", f"Repeat: {letters}", letters, wrong)


GENERATORS = {"math": addition, "reasoning": comparison, "general": repeat_letters}


def problems(*, n: int, seed: int) -> list[Problem]:
    """``n`` problems cycling through the three tasks."""
    rng = random.Random(seed)
    return [GENERATORS[TASKS[i % len(TASKS)]](rng) for i in range(n)]
