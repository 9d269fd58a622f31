"""Side-by-side performance comparisons: Arena against named contenders, in one process tree.

    .venv/bin/python bench/compare.py [--quick] [--only NAME,...] [--out PATH]

Every module ``bench/comparisons/<name>.py`` (names starting with ``_`` are helpers) defines
``NAME: str`` and ``run(*, quick: bool) -> list[dict]``; each runs in its own child process of this
one, in turn, and interleaves its contenders itself (``bench/comparisons/_interleave.py``). A row is
``{"comparison", "arena", "contender", "contender_value", "unit", "ratio", "target", "met", "rounds",
"notes"}`` where ``ratio`` is Arena's speed over the contender's (> 1: Arena faster) and ``met`` says
whether ``ratio >= target``. The table is printed and written, with the machine's facts (CPUs, model,
load average before and after, Python, package versions), to ``bench/results/compare-<date>.json``.
A comparison that fails is reported as failed (with its error) and the others still run; the exit
status is 1 when any failed.
"""
from __future__ import annotations

import argparse
import ast
import datetime as dt
import glob
import json
import os
import platform
import subprocess
import sys
import time
from importlib import metadata

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
COMPARISONS = os.path.join(ROOT, "bench", "comparisons")
RESULTS = os.path.join(ROOT, "bench", "results")
ROW_KEYS = ("comparison", "arena", "contender", "contender_value", "unit", "ratio", "target", "met", "rounds", "notes")
PACKAGES = (
    "django", "djangorestframework", "celery", "psycopg", "pyarrow", "polars", "orjson", "numpy", "pandas",
    "torch", "transformers", "tokenizers", "py-data-juicer", "gunicorn", "redis", "rensa", "datasketch",
)
CHILD = """
import importlib, json, sys
sys.path.insert(0, {root!r})
module = importlib.import_module("bench.comparisons." + {module!r})
rows = module.run(quick={quick!r})
with open({out!r}, "w") as f:
    json.dump(rows, f)
"""


def discover() -> dict[str, str]:
    """``{NAME: module}`` for every comparison file, read without importing it (imports happen in the child)."""
    found: dict[str, str] = {}
    for path in sorted(glob.glob(os.path.join(COMPARISONS, "*.py"))):
        module = os.path.splitext(os.path.basename(path))[0]
        if module.startswith("_"):
            continue
        with open(path, encoding="utf-8") as f:
            tree = ast.parse(f.read(), filename=path)
        name = None
        for node in tree.body:
            target = node.target if isinstance(node, ast.AnnAssign) else (node.targets[0] if isinstance(node, ast.Assign) else None)
            if isinstance(target, ast.Name) and target.id == "NAME" and isinstance(node.value, ast.Constant):
                name = node.value.value
        if not isinstance(name, str):
            raise SystemExit(f"{path}: defines no NAME = '...' string constant")
        if name in found:
            raise SystemExit(f"{path}: NAME {name!r} is already used by bench/comparisons/{found[name]}.py")
        found[name] = module
    return found


def machine_facts() -> dict:
    model = platform.processor() or ""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            model = next((line.split(":", 1)[1].strip() for line in f if line.startswith("model name")), model)
    except OSError:
        pass
    versions = {}
    for package in PACKAGES:
        try:
            versions[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            continue
    return {
        "cpu_count": os.cpu_count(),
        "cpu_affinity": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None,
        "cpu_model": model,
        "platform": platform.platform(),
        "python": sys.version.split()[0],
        "packages": versions,
    }


def check_row(row: object, *, name: str) -> dict:
    if not isinstance(row, dict) or set(row) != set(ROW_KEYS):
        keys = sorted(row) if isinstance(row, dict) else type(row).__name__
        raise ValueError(f"comparison {name!r} returned a row with keys {keys}; expected {list(ROW_KEYS)}")
    for key in ("arena", "contender_value", "ratio"):
        if not isinstance(row[key], (int, float)):
            raise ValueError(f"comparison {name!r}: {key} must be a number, found {row[key]!r}")
    if row["target"] is not None and row["met"] != (row["ratio"] >= row["target"]):
        raise ValueError(f"comparison {name!r}: met={row['met']} disagrees with ratio {row['ratio']} and target {row['target']}")
    return row


def run_one(name: str, module: str, *, quick: bool) -> tuple[list[dict], str | None, float]:
    out = os.path.join(RESULTS, f".{module}-{os.getpid()}.json")
    code = CHILD.format(root=ROOT, module=module, quick=quick, out=out)
    start = time.perf_counter()
    proc = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=False)
    seconds = time.perf_counter() - start
    try:
        if proc.returncode != 0:
            return [], f"exit {proc.returncode}: {proc.stderr.strip()[-2000:]}", seconds
        with open(out, encoding="utf-8") as f:
            rows = [check_row(row, name=name) for row in json.load(f)]
        return rows, None, seconds
    except (OSError, ValueError) as exc:
        return [], str(exc), seconds
    finally:
        if os.path.exists(out):
            os.remove(out)


def fmt(value: object) -> str:
    if isinstance(value, float):
        return f"{value:.3g}" if abs(value) < 1000 else f"{value:,.0f}"
    return "-" if value is None else str(value)


def print_table(rows: list[dict]) -> None:
    head = ("comparison", "arena", "contender", "contender_value", "unit", "ratio", "target", "met", "rounds")
    table = [head] + [tuple(fmt(row[k]) for k in head) for row in rows]
    widths = [max(len(line[i]) for line in table) for i in range(len(head))]
    for n, line in enumerate(table):
        print("  ".join(cell.ljust(width) for cell, width in zip(line, widths)))
        if n == 0:
            print("  ".join("-" * width for width in widths))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="smaller inputs and fewer rounds (a smoke run)")
    parser.add_argument("--only", default="", help="comma-separated NAMEs (or module names) to run")
    parser.add_argument("--out", default="", help="result file (default bench/results/compare-<date>.json)")
    args = parser.parse_args(argv)
    available = discover()
    wanted = [w.strip() for w in args.only.split(",") if w.strip()]
    by_module = {module: name for name, module in available.items()}
    unknown = [w for w in wanted if w not in available and w not in by_module]
    if unknown:
        parser.error(f"unknown comparison(s) {', '.join(unknown)}; available: {', '.join(available)}")
    selected = {n: m for n, m in available.items() if not wanted or n in wanted or m in wanted}
    os.makedirs(RESULTS, exist_ok=True)
    facts = machine_facts()
    facts["load_before"] = os.getloadavg()
    started = dt.datetime.now(dt.timezone.utc)
    print(f"{facts['cpu_count']} CPUs ({facts['cpu_model']}), python {facts['python']}, load {facts['load_before'][0]:.2f}")
    rows: list[dict] = []
    runs: dict[str, dict] = {}
    for name, module in selected.items():
        print(f"running {name} ...", flush=True)
        load = os.getloadavg()
        got, error, seconds = run_one(name, module, quick=args.quick)
        runs[name] = {"module": module, "seconds": round(seconds, 1), "error": error, "load_before": load,
                      "load_after": os.getloadavg()}
        if error:
            print(f"  FAILED: {error.splitlines()[-1] if error.strip() else error}", flush=True)
        rows += got
    facts["load_after"] = os.getloadavg()
    print()
    print_table(rows)
    failed = [name for name, run in runs.items() if run["error"]]
    if failed:
        print(f"\nfailed: {', '.join(failed)}")
    path = args.out or os.path.join(RESULTS, f"compare-{started:%Y-%m-%d}.json")
    with open(path, "w", encoding="utf-8") as f:
        json.dump({"started": started.isoformat(), "quick": args.quick, "machine": facts, "runs": runs, "rows": rows},
                  f, indent=2, ensure_ascii=False)
    print(f"\nwrote {os.path.relpath(path, ROOT)}  (load average before {facts['load_before'][0]:.2f}, "
          f"after {facts['load_after'][0]:.2f})")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
