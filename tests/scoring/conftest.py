"""Fixtures of the scoring tests: small ready datasets."""

from __future__ import annotations

import json

import pytest

from arena.services import dataset_register

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
def make_dataset(make_upload):
    def _make(*, owner, n: int = 20, name: str = "X", visibility: str = "public", tag: str = ""):
        dataset = dataset_register(
            owner=owner,
            upload=make_upload(samples_jsonl(n, tag=tag or name), "x.jsonl"),
            filename="x.jsonl",
            name=name,
            visibility=visibility,
            ingest_now=True,
        )
        assert dataset.status == "ready", dataset.error
        return dataset

    return _make
