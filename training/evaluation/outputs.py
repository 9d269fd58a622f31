"""Per-item outputs of a harness run (lm-eval's ``log_samples``): what each item asked, what the model answered,
how it scored. Stored as one Parquet file per result, read back a page at a time."""
from __future__ import annotations

import json

import pyarrow as pa
import pyarrow.parquet as pq

from arena.storage import eval_items_name, store_file, temporary_path

ITEM_COLUMNS = ("doc_id", "prompt", "response", "filtered_response", "target", "choices", "metrics", "doc")
ROW_GROUP = 500


def _text(value) -> str:
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, default=str)


def sample_rows(samples: list[dict], *, filter_name: str) -> list[dict]:
    """One row per item from lm-eval's samples of one task, keeping the entries of the reported filter."""
    rows = []
    for sample in samples:
        if sample.get("filter", "none") != filter_name:
            continue
        arguments = sample.get("arguments") or []
        first = arguments[0] if arguments else ("", "")
        is_choice = len(first) > 1 and isinstance(first[1], str)
        responses = sample.get("resps") or []
        if is_choice:  # multiple choice: one (log-likelihood, is-greedy) per choice
            response = [r[0][0] if r and isinstance(r[0], (list, tuple)) else r for r in responses]
        else:
            response = responses[0][0] if responses and responses[0] else ""
        filtered = sample.get("filtered_resps")
        rows.append({
            "doc_id": int(sample["doc_id"]),
            "prompt": _text(first[0]),
            "response": _text(response),
            "filtered_response": _text(filtered[0] if isinstance(filtered, list) and filtered and not is_choice else filtered),
            "target": _text(sample.get("target")),
            "choices": _text([a[1] for a in arguments]) if is_choice else "",
            "metrics": _text({m: sample.get(m) for m in sample.get("metrics", [])}),
            "doc": _text(sample.get("doc")),
        })
    return sorted(rows, key=lambda r: r["doc_id"])


def store_rows(rows: list[dict]) -> str:
    """Write the rows to storage as Parquet; returns the storage name."""
    schema = pa.schema([("doc_id", pa.int64())] + [(c, pa.string()) for c in ITEM_COLUMNS[1:]])
    table = pa.Table.from_pylist(rows, schema=schema)
    name = eval_items_name()
    with temporary_path(suffix=".parquet") as path:
        pq.write_table(table, path, row_group_size=ROW_GROUP, compression="zstd")
        store_file(local_path=path, name=name)
    return name


def decode_row(row: dict) -> dict:
    """A stored row as the API shows it (JSON columns parsed back)."""
    out = dict(row)
    for key in ("metrics", "doc", "choices"):
        out[key] = json.loads(row[key]) if row.get(key) else None
    if row.get("choices"):
        out["response"] = json.loads(row["response"])
    return out
