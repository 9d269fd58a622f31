"""Fixtures of the scoring tests: small ready datasets."""

from __future__ import annotations

import json

import pytest

from tests.factories import ready_dataset

RESPONSES = [
    "The answer is 4 because 2 plus 2 equals 4. Therefore the result is 4.",
    "Here is code:\n```python\ndef add(a, b):\n    return a + b\n```\nIt adds two numbers.",
    "<think>Let me think about it first.</think>Paris is the capital of France.",
    "yes yes yes yes yes yes yes yes",
    "Le chat est sur la table et il dort dans la maison.",
    "```python\ndef broken(:\n    pass\n```",
    "<think>only thinking, no answer</think>",
    "However, if the input is empty, then the function returns None; otherwise it returns the first item.",
]


def samples_jsonl(n: int, *, tag: str = "") -> str:
    lines = []
    for i in range(n):
        lines.append(
            json.dumps(
                {
                    "instruction": f"Question {i}{tag}: explain item number {i} in a few words.",
                    "output": RESPONSES[i % len(RESPONSES)] + f" (sample {i}{tag})",
                }
            )
        )
    return "\n".join(lines) + "\n"


@pytest.fixture
def make_dataset():
    def _make(*, owner, n: int = 20, name: str = "X", visibility: str = "public", tag: str = ""):
        return ready_dataset(owner=owner, name=name, content=samples_jsonl(n, tag=tag or name), visibility=visibility)

    return _make
