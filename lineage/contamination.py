"""Benchmark contamination: word n-gram overlap between a dataset's samples and a benchmark's items.

Both sides are normalised (lowercase, punctuation stripped) and cut into word n-grams
(default 13, as in GPT-3's decontamination). An item shorter than n words is matched on
its whole text. Benchmark n-grams are held in memory (benchmarks are small); the dataset
is streamed in batches and its n-grams hashed (pandas' stable SipHash) and matched with
``np.isin`` against the benchmark's, so the Python work is proportional to hits only.
"""
from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from arena.errors import InvalidInput
from arena.models import Dataset
from arena.storage import iter_batches
from lineage.text import sample_text, words

MAX_EXAMPLES = 10
BATCH_ROWS = 2000


def _hash(strings: list[str]) -> np.ndarray:
    if not strings:
        return np.zeros(0, dtype=np.uint64)
    return pd.util.hash_array(np.asarray(strings, dtype=object), categorize=False).astype(np.uint64, copy=False)


def _item_text(item: dict) -> str:
    answer = item.get("answer")
    return f"{item['prompt']}\n{answer}" if isinstance(answer, str) else str(item["prompt"])


@dataclass
class BenchmarkNgrams:
    ngram_size: int
    item_ids: list[str] = field(default_factory=list)
    grams: dict[int, list[int]] = field(default_factory=lambda: defaultdict(list))  # hash -> item positions
    lengths: set[int] = field(default_factory=set)  # gram lengths in use: n, plus each short item's length
    keys: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.uint64))


def benchmark_ngrams(*, items: Iterator[dict], ngram_size: int) -> BenchmarkNgrams:
    index = BenchmarkNgrams(ngram_size=ngram_size)
    for position, item in enumerate(items):
        if "prompt" not in item:
            raise InvalidInput(f"benchmark item {position + 1} has no 'prompt'")
        index.item_ids.append(str(item.get("id", position)))
        tokens = words(_item_text(item))
        if not tokens:
            continue
        size = min(ngram_size, len(tokens))
        index.lengths.add(size)
        grams = {" ".join(tokens[i : i + size]) for i in range(len(tokens) - size + 1)}
        for key in _hash(sorted(grams)).tolist():
            bucket = index.grams[key]
            if not bucket or bucket[-1] != position:
                bucket.append(position)
    index.keys = np.fromiter(index.grams.keys(), dtype=np.uint64, count=len(index.grams))
    return index


@dataclass
class ScanResult:
    items_total: int
    items_contaminated: int
    samples_total: int
    samples_hitting: int
    examples: list[dict]

    @property
    def ratio(self) -> float:
        return self.items_contaminated / self.items_total if self.items_total else 0.0


def scan_dataset(*, dataset: Dataset, index: BenchmarkNgrams) -> ScanResult:
    """Stream the dataset's samples and count benchmark items they contain n-grams of."""
    if dataset.status != Dataset.Status.READY or not dataset.samples_file:
        raise InvalidInput(f"dataset {dataset.slug!r} is not ingested (status {dataset.status}); nothing to scan")
    contaminated: set[int] = set()
    samples_total = samples_hitting = 0
    examples: list[dict] = []
    columns = ["idx", "id", "instruction", "response"]
    for batch in iter_batches(dataset.samples_file, columns=columns, batch_size=BATCH_ROWS):
        rows = batch.to_pydict()
        token_lists = [words(sample_text(q, a)) for q, a in zip(rows["instruction"], rows["response"])]
        samples_total += len(token_lists)
        hit_samples: set[int] = set()
        for size in sorted(index.lengths):
            grams: list[str] = []
            owner: list[int] = []
            for row, tokens in enumerate(token_lists):
                for i in range(len(tokens) - size + 1):
                    grams.append(" ".join(tokens[i : i + size]))
                    owner.append(row)
            if not grams:
                continue
            hashes = _hash(grams)
            for pos in np.flatnonzero(np.isin(hashes, index.keys)).tolist():
                row = owner[pos]
                items = index.grams[int(hashes[pos])]
                hit_samples.add(row)
                for item in items:
                    if item not in contaminated and len(examples) < MAX_EXAMPLES:
                        examples.append(
                            {
                                "item_id": index.item_ids[item],
                                "sample_idx": rows["idx"][row],
                                "sample_id": rows["id"][row],
                                "ngram": grams[pos],
                            }
                        )
                    contaminated.add(item)
        samples_hitting += len(hit_samples)
    return ScanResult(
        items_total=len(index.item_ids),
        items_contaminated=len(contaminated),
        samples_total=samples_total,
        samples_hitting=samples_hitting,
        examples=examples,
    )
