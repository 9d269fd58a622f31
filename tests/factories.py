"""Test data made through the real registry: register an upload and ingest it inline."""
from __future__ import annotations

import io
import json

from arena.models import Dataset
from arena.services import dataset_register


def jsonl_bytes(records: list[dict]) -> bytes:
    return "".join(json.dumps(record) + "\n" for record in records).encode()


def ready_dataset(*, owner, name: str, content: bytes | str, filename: str = "data.jsonl", **fields) -> Dataset:
    """A dataset registered from ``content`` and ingested inline; fails the test unless it ends ready."""
    upload = io.BytesIO(content.encode() if isinstance(content, str) else content)
    upload.name = filename
    dataset = dataset_register(owner=owner, upload=upload, filename=filename, name=name, ingest_now=True, **fields)
    assert dataset.status == Dataset.Status.READY, dataset.error
    return dataset


def api_token_key(user, name: str = "test") -> str:
    """A working REST API token key for ``user`` (``Authorization: Token <key>``)."""
    from arena.api_tokens import token_create

    return token_create(user=user, name=name).key


# --- sample generators (one per test area's needs) --------------------------------------------------------------

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

VOCAB = [f"w{i}" for i in range(3000)]


def varied_samples(n: int, *, tag: str = "") -> list[dict]:
    """``n`` alpaca samples whose answers cycle through :data:`RESPONSES` (reasoning, code, <think>, repetition,
    French, broken code...): something for every heuristic scorer to tell apart."""
    return [
        {
            "instruction": f"Question {i}{tag}: explain item number {i} in a few words.",
            "output": RESPONSES[i % len(RESPONSES)] + f" (sample {i}{tag})",
        }
        for i in range(n)
    ]


def random_word_samples(n: int, *, seed: int, words: int = 40) -> list[dict]:
    """``n`` distinct alpaca samples of random words (disjoint across seeds with overwhelming probability)."""
    import numpy as np

    rng = np.random.default_rng(seed)
    out = []
    for i in range(n):
        text = rng.choice(VOCAB, size=words)
        out.append({"instruction": " ".join(text[: words // 2]), "output": " ".join(text[words // 2 :]), "id": f"s{seed}-{i}"})
    return out


def task_samples(n: int) -> list[dict]:
    """``n`` correctly labelled samples of the demo's procedural task family (what the tiny model trains on)."""
    from training.demo.datasets import clean

    return clean(size=n)


def make_dataset(*, owner, name: str, records: list[dict], visibility: str = "public", **fields) -> Dataset:
    """The one dataset factory: ``records`` registered as ``<name>.jsonl`` through the registry, ingested inline,
    ready. The areas' ``make_dataset`` fixtures (tests/*/conftest.py) call it with their own default samples."""
    return ready_dataset(owner=owner, name=name, content=jsonl_bytes(records), filename=f"{name}.jsonl",
                         visibility=visibility, **fields)
