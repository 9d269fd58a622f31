"""Ingest speed: Arena's ``ingest_file`` against polars, pyarrow.json and an orjson line loop.

Every contender turns the same JSONL file (unique, Unicode-heavy alpaca or sharegpt records, see
``bench/ingest_data.py``) into a zstd Parquet file, in its own fresh process; the timed part excludes
interpreter start-up and imports. Arena does more (validation, repair rules, normalisation to the
sample schema, token statistics, the content hash); the target is that it still runs at >= 0.5x the
fastest contender, in wall seconds (CPU seconds are reported beside). ``ARENA_BENCH_INGEST_GB=1`` adds
one peak-RSS measurement of Arena on a file of that size (target < 500 MB).
"""
from __future__ import annotations

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))  # bench/ for ingest_data

import ingest_data  # noqa: E402

from bench.comparisons._interleave import interleave_children, median, run_child  # noqa: E402

NAME = "ingest"
TARGET = 0.5

_PRELUDE = """
import json, os, resource, sys, time
path, out = {path!r}, {out!r}
"""
_TIMED = """
cpu0, wall0 = time.process_time(), time.perf_counter()
{body}
wall, cpu = time.perf_counter() - wall0, time.process_time() - cpu0
print(json.dumps({{"wall": wall, "cpu": cpu, "out_mb": os.path.getsize(out) / 1e6{extra}}}))
os.remove(out)
"""

SNIPPETS = {
    "arena": (
        "import django; django.setup()\nfrom arena.ingest.pipeline import ingest_file\nimport arena.ingest.fast",
        "r = ingest_file(path=path, filename='bench.jsonl', out_path=out, max_record_bytes=8 << 20, policy='strict')",
        ', "samples": r.sample_count',
    ),
    "polars": (
        "import polars as pl",
        "pl.read_ndjson(path).write_parquet(out, compression='zstd')",
        "",
    ),
    "pyarrow.json": (
        "import pyarrow.json as pj, pyarrow.parquet as pq",
        "pq.write_table(pj.read_json(path), out, compression='zstd')",
        "",
    ),
    "orjson-loop": (
        "import orjson, pyarrow as pa, pyarrow.parquet as pq",
        """writer = None
batch = []
def flush():
    global writer
    table = pa.Table.from_pylist(batch) if writer is None else pa.Table.from_pylist(batch, schema=writer.schema)
    if writer is None:
        writer = pq.ParquetWriter(out, table.schema, compression='zstd')
    writer.write_table(table)
    batch.clear()
with open(path, 'rb') as f:
    for line in f:
        batch.append(orjson.loads(line))
        if len(batch) >= 2000:
            flush()
if batch:
    flush()
writer.close()""",
        "",
    ),
}


def snippet(name: str, *, path: str, out: str) -> str:
    imports, body, extra = SNIPPETS[name]
    return _PRELUDE.format(path=path, out=out) + imports + "\n" + _TIMED.format(body=body, extra=extra)


def run(*, quick: bool) -> list[dict]:
    mb = 20 if quick else 100
    rounds = 2 if quick else 3
    rows: list[dict] = []
    for fmt in ("alpaca", "sharegpt"):
        path = ingest_data.cached(fmt, mb=mb)
        size_mb = os.path.getsize(path) / 1e6
        out = os.path.join(os.path.dirname(path), f"out-{fmt}.parquet")
        results = interleave_children({name: snippet(name, path=path, out=out) for name in SNIPPETS}, rounds=rounds)
        wall = {name: median([r["wall"] for r in runs]) for name, runs in results.items()}
        cpu = {name: median([r["cpu"] for r in runs]) for name, runs in results.items()}
        rss = {name: max(r["peak_rss_mb"] for r in runs) for name, runs in results.items()}
        out_mb = {name: runs[0]["out_mb"] for name, runs in results.items()}
        fastest = min((n for n in SNIPPETS if n != "arena"), key=lambda n: wall[n])
        for metric, values, unit in (("wall", wall, "MB/s"), ("cpu", cpu, "MB/CPU-s")):
            best = min((n for n in SNIPPETS if n != "arena"), key=lambda n: values[n])
            ratio = values[best] / values["arena"]
            detail = ", ".join(
                f"{n} {size_mb / values[n]:.1f} {unit} rss {rss[n]:.0f}MB parquet {out_mb[n]:.1f}MB" for n in SNIPPETS
            )
            rows.append(
                {
                    "comparison": f"ingest {fmt} {size_mb:.0f}MB JSONL ({metric})",
                    "arena": size_mb / values["arena"],
                    "contender": best,
                    "contender_value": size_mb / values[best],
                    "unit": unit,
                    "ratio": ratio,
                    "target": TARGET if metric == "wall" else None,
                    "met": (ratio >= TARGET) if metric == "wall" else None,
                    "rounds": rounds,
                    "notes": f"{results['arena'][0]['samples']} samples; {detail}"
                    + (f"; fastest by wall: {fastest}" if metric == "cpu" else ""),
                }
            )
    gb = float(os.environ.get("ARENA_BENCH_INGEST_GB", "0") or 0)
    if gb > 0:
        path = ingest_data.scaled("sharegpt", mb=100, copies=max(1, round(gb * 10)))
        size_mb = os.path.getsize(path) / 1e6
        out = os.path.join(os.path.dirname(path), "out-big.parquet")
        figures = run_child(snippet("arena", path=path, out=out))
        rows.append(
            {
                "comparison": f"ingest peak RSS, sharegpt {size_mb:.0f}MB JSONL",
                "arena": figures["peak_rss_mb"],
                "contender": "limit",
                "contender_value": 500.0,
                "unit": "MB peak RSS",
                "ratio": 500.0 / figures["peak_rss_mb"],
                "target": 1.0,
                "met": figures["peak_rss_mb"] < 500,
                "rounds": 1,
                "notes": f"{figures['samples']} samples in {figures['wall']:.1f}s ({size_mb / figures['wall']:.1f} MB/s)",
            }
        )
    return rows
