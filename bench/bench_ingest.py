"""Ingest throughput and peak memory for JSONL files of growing size.

    .venv/bin/python bench/bench_ingest.py --sizes-mb 100,1000

Each size is generated to a temp file (streamed), then ingested by ``ingest_file``
in a fresh child process so its peak RSS is measured alone. Flat memory means
the peak RSS stays the same while the file grows 10x.
"""
from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
WORDS = "the model data answer question reason step number value compute explain result because therefore".split()


def generate(path: str, *, target_bytes: int, seed: int = 0) -> int:
    rng = random.Random(seed)
    written = 0
    count = 0
    with open(path, "w", encoding="utf-8") as out:
        while written < target_bytes:
            record = {
                "instruction": " ".join(rng.choices(WORDS, k=rng.randint(8, 60))),
                "input": "",
                "output": " ".join(rng.choices(WORDS, k=rng.randint(20, 300))),
            }
            line = json.dumps(record) + "\n"
            out.write(line)
            written += len(line)
            count += 1
    return count


CHILD = """
import os, sys, time, resource, json
sys.path.insert(0, {root!r})
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "arena.settings")
import django; django.setup()
from arena.ingest.pipeline import ingest_file
start = time.perf_counter()
result = ingest_file(path={path!r}, filename="bench.jsonl", out_path={out!r}, max_record_bytes=8 << 20, batch_rows=2000,
                     policy={policy!r}, rejects_path={out!r} + ".rejects.gz")
elapsed = time.perf_counter() - start
print(json.dumps({{"samples": result.sample_count, "seconds": elapsed,
                   "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}}))
"""


def measure(path: str, *, policy: str) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "out.parquet")
        code = CHILD.format(root=ROOT, path=path, out=out, policy=policy)
        proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
        if proc.returncode != 0:
            raise SystemExit(proc.stderr)
        figures = json.loads(proc.stdout.strip().splitlines()[-1])
        figures["parquet_mb"] = os.path.getsize(out) / 1e6
        return figures


def baseline_rss_mb() -> float:
    code = (
        f"import sys,os,resource; sys.path.insert(0,{ROOT!r}); os.environ.setdefault('DJANGO_SETTINGS_MODULE','arena.settings');"
        "import django; django.setup(); import arena.ingest.pipeline, pyarrow.parquet;"
        "print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss/1024)"
    )
    return float(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes-mb", default="100,1000")
    parser.add_argument("--dir", default=tempfile.gettempdir())
    parser.add_argument("--policies", default="strict,repair", help="ingest policies to time on the same file")
    args = parser.parse_args()
    print(f"python {sys.version.split()[0]}, {os.cpu_count()} cpus; interpreter+imports baseline RSS {baseline_rss_mb():.0f} MB")
    print(f"{'policy':>7} {'input MB':>9} {'samples':>10} {'seconds':>8} {'MB/s':>7} {'samples/s':>10} {'peak RSS MB':>12} {'parquet MB':>11}")
    for size in [int(s) for s in args.sizes_mb.split(",")]:
        path = os.path.join(args.dir, f"arena-bench-{size}mb.jsonl")
        try:
            generate(path, target_bytes=size * 1_000_000)
            actual_mb = os.path.getsize(path) / 1e6
            for policy in args.policies.split(","):
                f = measure(path, policy=policy)
                print(
                    f"{policy:>7} {actual_mb:9.0f} {f['samples']:10d} {f['seconds']:8.1f} {actual_mb / f['seconds']:7.1f} "
                    f"{f['samples'] / f['seconds']:10.0f} {f['peak_rss_mb']:12.0f} {f['parquet_mb']:11.0f}"
                )
        finally:
            if os.path.exists(path):
                os.remove(path)


if __name__ == "__main__":
    main()
