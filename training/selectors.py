"""Reads for training and evaluation."""
from __future__ import annotations

import json
from collections.abc import Iterator

from arena.errors import InvalidInput
from arena.storage import iter_batches, local_copy
from training.models import Benchmark


def benchmark_iter_items(*, benchmark: Benchmark) -> Iterator[dict]:
    """Stream a benchmark's items. Item files are JSONL or Parquet with at least ``id`` and ``prompt``;
    generation items add ``answer``, multiple-choice items ``choices`` and ``answer_index``, code items
    ``test`` and ``entry_point`` (HumanEval's fields)."""
    name = benchmark.items_file
    if name.endswith(".parquet"):
        for batch in iter_batches(name):
            yield from batch.to_pylist()
        return
    with local_copy(name) as path, open(path, encoding="utf-8") as handle:
        for line_no, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                item = json.loads(line)
            except json.JSONDecodeError as exc:
                raise InvalidInput(f"benchmark {benchmark.slug}: line {line_no} is not valid JSON ({exc.msg})") from None
            if not isinstance(item, dict) or "prompt" not in item:
                raise InvalidInput(f"benchmark {benchmark.slug}: line {line_no} has no 'prompt' field")
            yield item
