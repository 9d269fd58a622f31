"""Benchmark the heuristic scorers: samples/s on ONE core, and peak RSS of the chunk path for two sizes.

    .venv/bin/python bench/bench_scoring_heuristics.py [--samples 20000] [--sizes 20000,80000]

Side by side with py-data-juicer's equivalent ops (text length, word count, word repetition) when a
Python with data-juicer installed is found: $DJ_PYTHON, else /tmp/dj-venv/bin/python. It runs in that
separate interpreter (a subprocess) so the project venv is never polluted; when it is absent the script
says so and prints Arena's figures only.

Notes on the comparison: data-juicer's ops read one text field (here: the response); Arena's
char_length reads instruction + response. data-juicer's word_rep_ratio and Arena's repetition measure
different things (share of repeated word n-grams vs share of the single most frequent n-gram); both
count word 2-grams here, so the work per sample is comparable, the values are not.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

WORDS = (
    "the of and to in is that it for on with as this be by not or are from at have but which you they we "
    "model data answer because therefore however first second finally example function value result list "
    "python code return step reason think compute number sum total each value string error test case"
).split()


def synthetic_samples(n: int, seed: int = 0):
    """Deterministic instruction/response pairs with prose, code blocks, think tags and repetition."""
    rng = random.Random(seed)
    for i in range(n):
        q = " ".join(rng.choice(WORDS) for _ in range(rng.randint(8, 60))).capitalize() + "?"
        parts = []
        if rng.random() < 0.2:
            parts.append("<think>" + " ".join(rng.choice(WORDS) for _ in range(rng.randint(20, 120))) + "</think>")
        for _ in range(rng.randint(1, 6)):
            parts.append(" ".join(rng.choice(WORDS) for _ in range(rng.randint(10, 40))).capitalize() + ".")
        if rng.random() < 0.3:
            body = f"def f{i}(x):\n    return x + {i}\n" if rng.random() < 0.8 else "def broken(:\n"
            parts.append(f"```python\n{body}```")
        if rng.random() < 0.1:
            parts.append(" ".join(["again"] * rng.randint(5, 50)))
        yield {"id": str(i), "instruction": q, "response": "\n".join(parts)}


def pin_one_core() -> str:
    try:
        core = sorted(os.sched_getaffinity(0))[0]
        os.sched_setaffinity(0, {core})
        return f"pinned to CPU {core}"
    except (AttributeError, OSError):
        return "not pinned (no sched_setaffinity)"


def setup_django(storage: str) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "arena.settings")
    os.environ["ARENA_STORAGE"] = storage
    os.environ["ARENA_TMP_DIR"] = os.path.join(storage, "tmp")
    os.environ["HF_HUB_OFFLINE"] = "1"
    import django

    django.setup()


def heuristic_names() -> list[str]:
    from scoring.scorers.base import scorer_classes

    return [
        name
        for name, cls in scorer_classes().items()
        if not cls.meta.needs_model and cls.meta.scope == "sample" and not name.startswith("test_")
    ]


def bench_throughput(n: int) -> dict[str, float]:
    from scoring.scorers.base import SampleText, build_scorer

    samples = [
        SampleText(idx=i, instruction=r["instruction"], response=r["response"])
        for i, r in enumerate(synthetic_samples(n))
    ]
    batches = [samples[i : i + 500] for i in range(0, n, 500)]
    rates = {}
    for name in heuristic_names():
        scorer = build_scorer(name)
        began = time.perf_counter()
        for batch in batches:
            scorer.score_batch(batch)
        rates[name] = n / (time.perf_counter() - began)
    return rates


def write_samples_parquet(n: int, path: str) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    from arena.ingest.schema import SAMPLE_SCHEMA

    with pq.ParquetWriter(path, SAMPLE_SCHEMA) as writer:
        rows = []
        for i, r in enumerate(synthetic_samples(n)):
            rows.append(
                {
                    "idx": i,
                    "id": r["id"],
                    "system": "",
                    "source": f"line {i + 1}",
                    "n_turns": 1,
                    "messages": [
                        {"role": "user", "content": r["instruction"]},
                        {"role": "assistant", "content": r["response"]},
                    ],
                    "instruction": r["instruction"],
                    "response": r["response"],
                    "instruction_tokens": 0,
                    "response_tokens": 0,
                }
            )
            if len(rows) == 2000:
                writer.write_table(pa.Table.from_pylist(rows, schema=SAMPLE_SCHEMA))
                rows = []
        if rows:
            writer.write_table(pa.Table.from_pylist(rows, schema=SAMPLE_SCHEMA))


def child_chunk_path(n: int, storage: str) -> None:
    """In a fresh process: stream an n-sample Parquet through the engine's chunk code with every heuristic
    scorer, 5000-row chunks as the engine would, and print peak RSS."""
    setup_django(storage)
    pin_one_core()
    from django.core.files.storage import default_storage

    from scoring.chunk_scoring import score_sample_range
    from scoring.scorers.base import build_scorer

    name = f"bench/samples-{n}.parquet"
    os.makedirs(os.path.dirname(default_storage.path(name)), exist_ok=True)
    write_samples_parquet(n, default_storage.path(name))
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    scorers = [build_scorer(s) for s in heuristic_names()]
    began = time.perf_counter()
    for start in range(0, n, 5000):
        score_sample_range(
            samples_file=name,
            start=start,
            end=min(start + 5000, n),
            scorers=scorers,
            output_name=f"bench/out-{start}.parquet",
            batch_rows=500,
        )
    seconds = time.perf_counter() - began
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(
        json.dumps(
            {"n": n, "seconds": seconds, "peak_rss_mb": peak / 1024, "rss_after_writing_input_mb": rss_before / 1024}
        )
    )


DJ_SCRIPT = textwrap.dedent(
    """
    import json, os, sys, time, logging
    logging.disable(logging.WARNING)
    try:
        core = sorted(os.sched_getaffinity(0))[0]; os.sched_setaffinity(0, {core})
    except Exception:
        pass
    from data_juicer.ops.filter import TextLengthFilter, WordsNumFilter, WordRepetitionFilter
    from data_juicer.utils.constant import Fields
    texts = [json.loads(line)["response"] for line in open(sys.argv[1])]
    out = {}
    for label, op in [("text_length (TextLengthFilter)", TextLengthFilter()),
                      ("words_num (WordsNumFilter)", WordsNumFilter()),
                      ("word_repetition n=2 (WordRepetitionFilter)", WordRepetitionFilter(rep_len=2))]:
        began = time.perf_counter()
        for i in range(0, len(texts), 500):
            part = texts[i:i + 500]
            op.compute_stats_batched({"text": part, Fields.stats: [{} for _ in part]})
        out[label] = len(texts) / (time.perf_counter() - began)
    import data_juicer
    out["_version"] = data_juicer.__version__
    print("DJRESULT " + json.dumps(out))
    """
)


def bench_data_juicer(n: int) -> dict | str:
    python = os.environ.get("DJ_PYTHON") or "/tmp/dj-venv/bin/python"
    if not os.path.exists(python):
        return f"data-juicer not available (no interpreter at {python}; set DJ_PYTHON to a Python with py-data-juicer)"
    with tempfile.TemporaryDirectory() as tmp:
        data = os.path.join(tmp, "samples.jsonl")
        with open(data, "w") as out:
            for r in synthetic_samples(n):
                out.write(json.dumps(r) + "\n")
        script = os.path.join(tmp, "dj_bench.py")
        Path(script).write_text(DJ_SCRIPT)
        proc = subprocess.run([python, script, data], capture_output=True, text=True, timeout=1800)
    for line in proc.stdout.splitlines():
        if line.startswith("DJRESULT "):
            return json.loads(line[len("DJRESULT ") :])
    return f"data-juicer run failed (exit {proc.returncode}): {(proc.stderr or proc.stdout)[-800:]}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--samples", type=int, default=20_000, help="samples for the throughput test")
    parser.add_argument("--sizes", default="20000,80000", help="two dataset sizes for the peak-RSS test")
    parser.add_argument("--child", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--storage", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child_chunk_path(args.child, args.storage)
        return

    with tempfile.TemporaryDirectory() as storage:
        setup_django(storage)
        print(f"Arena heuristic scorers, {args.samples} synthetic samples, one process, {pin_one_core()}")
        rates = bench_throughput(args.samples)
        width = max(map(len, rates)) + 2
        for name, rate in sorted(rates.items(), key=lambda kv: -kv[1]):
            print(f"  {name:<{width}} {rate:>12,.0f} samples/s")
        total = 1.0 / sum(1.0 / r for r in rates.values())
        label = f"ALL {len(rates)} scorers"
        print(f"  {label:<{width}} {total:>12,.0f} samples/s (every scorer on every sample)")

        print(
            "\nPeak RSS of the chunk path (Parquet rows -> all heuristic scorers -> chunk Parquet), fresh process each:"
        )
        for n in [int(s) for s in args.sizes.split(",")]:
            proc = subprocess.run(
                [sys.executable, __file__, "--child", str(n), "--storage", storage], capture_output=True, text=True
            )
            if proc.returncode:
                print(f"  n={n}: failed: {proc.stderr[-800:]}")
                continue
            result = json.loads(proc.stdout.strip().splitlines()[-1])
            print(
                f"  n={n:>8,}: {result['seconds']:.1f} s ({n / result['seconds']:,.0f} samples/s), "
                f"peak RSS {result['peak_rss_mb']:.0f} MB (of which {result['rss_after_writing_input_mb']:.0f} MB "
                "before scoring: Django, imports, writing the input)"
            )

    print(f"\npy-data-juicer on the same {args.samples} samples (response text), one core:")
    dj = bench_data_juicer(args.samples)
    if isinstance(dj, str):
        print("  " + dj)
        return
    version = dj.pop("_version")
    pairs = {
        "text_length (TextLengthFilter)": "char_length",
        "words_num (WordsNumFilter)": "response_tokens",
        "word_repetition n=2 (WordRepetitionFilter)": "repetition",
    }
    print(f"  data-juicer {version}")
    for label, rate in dj.items():
        ours = pairs[label]
        print(f"  {label:<44} {rate:>12,.0f} samples/s   | Arena {ours}: {rates[ours]:,.0f} samples/s")


if __name__ == "__main__":
    main()
