"""Benchmark item files: read JSONL / JSONL.gz / Parquet line by line, check every item against its kind's
columns (errors name the line), and write the checked items as the Parquet file the harness task reads."""
from __future__ import annotations

import gzip
import json
from collections.abc import Iterator

import pyarrow as pa
import pyarrow.parquet as pq

from arena.errors import InvalidInput
from training.evaluation.kinds.base import BenchmarkKind

SUFFIXES = (".jsonl", ".jsonl.gz", ".parquet")


def _json_type(value) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    return {str: "a string", list: "a list", dict: "an object"}.get(type(value), type(value).__name__)


def iter_file_items(path: str, *, filename: str) -> Iterator[tuple[str, object]]:
    """(location, item) for each item of a local JSONL(.gz) or Parquet file; malformed JSON is an error."""
    if filename.endswith(".parquet"):
        try:
            parquet = pq.ParquetFile(path)
        except Exception as exc:
            raise InvalidInput(f"{filename} is not a readable Parquet file ({exc})") from None
        row = 0
        for batch in parquet.iter_batches(batch_size=1000):
            for item in batch.to_pylist():
                row += 1
                yield f"row {row}", item
        return
    if not filename.endswith((".jsonl", ".jsonl.gz")):
        raise InvalidInput(f"benchmark item files must be {', '.join(SUFFIXES)}; got {filename!r}")
    opener = gzip.open if filename.endswith(".gz") else open
    try:
        with opener(path, "rt", encoding="utf-8") as handle:
            line_no = 0
            while True:
                try:
                    line = handle.readline()
                except UnicodeDecodeError:
                    raise InvalidInput(f"line {line_no + 1}: not valid UTF-8") from None
                if not line:
                    break
                line_no += 1
                if not line.strip():
                    continue
                try:
                    yield f"line {line_no}", json.loads(line)
                except json.JSONDecodeError as exc:
                    raise InvalidInput(f"line {line_no}: not valid JSON ({exc.msg})") from None
    except (OSError, EOFError) as exc:  # gzip.BadGzipFile is an OSError
        raise InvalidInput(f"{filename} cannot be read ({exc})") from None


def check_items(path: str, *, filename: str, kind: BenchmarkKind, metric: str) -> list[dict]:
    """Every item checked against ``kind`` (for ``metric``), one schema across items, ids unique."""
    items: list[dict] = []
    seen_ids: set = set()
    column_types: dict[str, tuple[str, str]] = {}  # column -> (JSON type, where first seen)
    for where, item in iter_file_items(path, filename=filename):
        if not isinstance(item, dict):
            raise InvalidInput(f"{where}: an item must be a JSON object, got {type(item).__name__}")
        kind.check_item(item, where=where, metric=metric)
        for key, value in item.items():
            kind_of = _json_type(value)
            if kind_of is None:
                continue
            first = column_types.setdefault(key, (kind_of, where))
            if first[0] != kind_of:
                raise InvalidInput(f"{where}: '{key}' is {kind_of}, but it is {first[0]} at {first[1]} "
                                   "(a column keeps one type across the file)")
        item_id = kind.item_id(item)
        if item_id is not None:
            if item_id in seen_ids:
                raise InvalidInput(f"{where}: duplicate item id {item_id!r}")
            seen_ids.add(item_id)
        items.append(item)
    if not items:
        raise InvalidInput("the benchmark file has no items")
    return items


def write_items(items: list[dict], *, parquet_path: str, jsonl_path: str) -> str:
    """Write the checked items as Parquet (typed columns, what the harness task reads); returns the path written.

    Items whose nested values Parquet cannot hold (an object column that is always empty, e.g. IFEval's ``kwargs``
    of ``{}``) are kept as JSONL instead. Nested values that do not share one type are an error."""
    try:
        table = pa.Table.from_pylist(items)
    except (pa.ArrowInvalid, pa.ArrowTypeError) as exc:
        raise InvalidInput(f"the items do not share one schema: {exc}") from None
    try:
        pq.write_table(table, parquet_path, compression="zstd")
        return parquet_path
    except pa.ArrowNotImplementedError:
        with open(jsonl_path, "w", encoding="utf-8") as handle:
            handle.writelines(json.dumps(item, ensure_ascii=False) + "\n" for item in items)
        return jsonl_path
