"""Benchmark contamination: word n-gram overlap (and, optionally, embedding similarity) between a dataset's
samples and a benchmark's items. Every flagged item is kept with its best-matching sample and the signal
that fired (``ngram`` or ``semantic``).

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

MAX_EXAMPLES = 10  # hits copied onto the finding row as a preview; every hit is a ContaminationHit row
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
    item_texts: list[str] = field(default_factory=list)
    item_prompts: list[str] = field(default_factory=list)
    item_gram_counts: list[int] = field(default_factory=list)
    grams: dict[int, list[int]] = field(default_factory=lambda: defaultdict(list))  # hash -> item positions
    lengths: set[int] = field(default_factory=set)  # gram lengths in use: n, plus each short item's length
    keys: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.uint64))


def benchmark_ngrams(*, items: Iterator[dict], ngram_size: int) -> BenchmarkNgrams:
    index = BenchmarkNgrams(ngram_size=ngram_size)
    for position, item in enumerate(items):
        if "prompt" not in item:
            raise InvalidInput(f"benchmark item {position + 1} has no 'prompt'")
        index.item_ids.append(str(item.get("id", position)))
        text = _item_text(item)
        index.item_texts.append(text)
        index.item_prompts.append(str(item["prompt"]))
        tokens = words(text)
        if not tokens:
            index.item_gram_counts.append(0)
            continue
        size = min(ngram_size, len(tokens))
        index.lengths.add(size)
        grams = {" ".join(tokens[i : i + size]) for i in range(len(tokens) - size + 1)}
        index.item_gram_counts.append(len(grams))
        for key in _hash(sorted(grams)).tolist():
            bucket = index.grams[key]
            if not bucket or bucket[-1] != position:
                bucket.append(position)
    index.keys = np.fromiter(index.grams.keys(), dtype=np.uint64, count=len(index.grams))
    return index


@dataclass
class ItemHit:
    """The best evidence found for one benchmark item by one signal."""

    item: int
    signal: str  # "ngram" or "semantic"
    score: float
    sample_idx: int
    sample_id: str
    sample_text: str
    matched: str = ""
    samples_matching: int = 1


@dataclass
class ScanResult:
    items_total: int
    samples_total: int
    samples_hitting: int
    hits: dict[tuple[int, str], ItemHit]

    @property
    def items_contaminated(self) -> int:
        return len({item for item, _ in self.hits})

    def items_by(self, signal: str) -> int:
        return sum(1 for _, s in self.hits if s == signal)

    @property
    def ratio(self) -> float:
        return self.items_contaminated / self.items_total if self.items_total else 0.0


def _keep_hit(hits: dict, hit: ItemHit) -> None:
    key = (hit.item, hit.signal)
    best = hits.get(key)
    if best is None:
        hits[key] = hit
    else:
        best.samples_matching += 1
        if hit.score > best.score:
            hit.samples_matching = best.samples_matching
            hits[key] = hit


def _ngram_items(*, index: BenchmarkNgrams, matched: dict[int, dict[int, list]]) -> dict[int, tuple[int, str]]:
    """From one sample's matched grams ({item: [unique grams, shared grams, first gram]}), the items it flags:
    {item: (matched gram count, first gram)}. A gram shared by several benchmark items is evidence for an item
    only when no item of that gram is matched by a gram of its own, so an item is never flagged solely
    because it shares a phrase with another (matched) item."""
    with_own = {item for item, (unique, _, _) in matched.items() if unique}
    out = {}
    for item, (unique, shared, first) in matched.items():
        if unique or not with_own:
            out[item] = (unique + shared, first)
    return out


def scan_dataset(*, dataset: Dataset, index: BenchmarkNgrams, semantic=None) -> ScanResult:
    """Stream the dataset's samples; flag benchmark items by n-gram overlap and, with ``semantic`` (a
    :class:`lineage.semantic.SemanticIndex`), by the nearest item in embedding space above its threshold."""
    if dataset.status != Dataset.Status.READY or not dataset.samples_file:
        raise InvalidInput(f"dataset {dataset.slug!r} is not ingested (status {dataset.status}); nothing to scan")
    samples_total = samples_hitting = 0
    hits: dict[tuple[int, str], ItemHit] = {}
    columns = ["idx", "id", "instruction", "response"]
    for batch in iter_batches(dataset.samples_file, columns=columns, batch_size=BATCH_ROWS):
        rows = batch.to_pydict()
        texts = [sample_text(q, a) for q, a in zip(rows["instruction"], rows["response"])]
        token_lists = [words(t) for t in texts]
        samples_total += len(token_lists)
        per_sample: dict[int, dict[int, list]] = defaultdict(dict)
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
                items = index.grams[int(hashes[pos])]
                found = per_sample[owner[pos]]
                for item in items:
                    entry = found.setdefault(item, [0, 0, grams[pos]])
                    entry[0 if len(items) == 1 else 1] += 1
        hit_rows: set[int] = set()
        for row, matched in per_sample.items():
            for item, (count, first) in _ngram_items(index=index, matched=matched).items():
                hit_rows.add(row)
                score = min(count / max(index.item_gram_counts[item], 1), 1.0)
                _keep_hit(hits, ItemHit(item, "ngram", score, rows["idx"][row], rows["id"][row], texts[row], first))
        if semantic is not None:
            for row, item, score in semantic.nearest_above(instructions=rows["instruction"], texts=texts):
                hit_rows.add(row)
                _keep_hit(hits, ItemHit(item, "semantic", score, rows["idx"][row], rows["id"][row], texts[row]))
        samples_hitting += len(hit_rows)
    return ScanResult(items_total=len(index.item_ids), samples_total=samples_total, samples_hitting=samples_hitting, hits=hits)
