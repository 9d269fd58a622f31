"""Heuristic scorers side by side: each against a plain-Python reference of the same statistic, the full pass
against 2,000 samples/s per core, and the data-juicer ops that compute the same kind of statistic.

    .venv/bin/python bench/comparisons/heuristics.py [--quick]          (or through bench/compare.py)
    ARENA_DJ_PYTHON=.venv-dj/bin/python ... to include py-data-juicer (a separate venv, see below)

Inputs: ShareGPT-length samples from ``_sharegpt_like.py`` (deterministic). Everything runs on ONE core: this
process pins itself to one CPU and the data-juicer worker pins itself to the same CPU; contenders alternate
(A, B, A, B, ...) and each row reports the median round. Speeds are samples per CPU-second of the pinned
process (a core-second), so other processes on the machine slow both sides alike and do not count as our time;
the wall-clock medians are in the notes.

Arena's scorers run as the scoring engine runs them (``score_batch`` on 500-sample batches) with every per-text
cache cleared before each round, so no round reuses work from the one before. The references
(``bench/heuristic_references.py``) give the same values, checked on every sample before timing.

data-juicer runs in its own interpreter (``ARENA_DJ_PYTHON``; install it into a separate venv with
``pip install --no-deps py-data-juicer==1.6.1`` plus the few modules its text filters import: loguru, numpy,
regex, pydantic, jsonargparse, tqdm, dill, multiprocess, emoji, pillow, psutil, tomli, zstandard, datasets, aiohttp,
httpx, wget, requests, beautifulsoup4, tabulate) as a long-lived worker process that this one drives op by op,
each op's ``compute_stats_batched`` over the response texts in 500-sample batches. Without ``ARENA_DJ_PYTHON`` the
data-juicer rows say "not installed" (met = None).
"""
from __future__ import annotations

import json
import math
import os
import subprocess
import sys
import tempfile
import textwrap
import time
from collections.abc import Callable

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)

from bench.comparisons._interleave import interleave  # noqa: E402


NAME = "heuristics"
BATCH = 500
#: the 15 heuristics the issue's full-pass target was written for (README's list)
ISSUE_15 = (
    "instruction_tokens", "response_tokens", "char_length", "mtld", "hdd", "unique_ngram_ratio", "repetition",
    "token_entropy", "zlib_ratio", "logical_connectives", "think_tag", "pure_thinking", "python_syntax",
    "language_match", "flesch_reading_ease",
)
PASS_TARGET = 2000.0  # samples/s per core
#: (label, data-juicer filter, its arguments, its stats key, the Arena scorer computing that kind of statistic)
DJ_PAIRS = (
    ("text length", "TextLengthFilter", {}, "text_len", "char_length"),
    ("words number", "WordsNumFilter", {}, "num_words", "response_tokens"),
    ("word repetition (2-grams)", "WordRepetitionFilter", {"rep_len": 2}, "word_rep_ratio", "repetition"),
    ("special characters", "SpecialCharactersFilter", {}, "special_char_ratio", "special_char_ratio"),
    ("character repetition (10-grams)", "CharacterRepetitionFilter", {"rep_len": 10}, "char_rep_ratio", "char_repetition"),
    ("alphanumeric ratio", "AlphanumericFilter", {}, "alnum_ratio", "alnum_ratio"),
)
#: pairs whose statistics are defined identically, so the values must agree (Arena says None where data-juicer says 0)
DJ_SAME_VALUES = {"char_repetition", "alnum_ratio"}
DJ_WORKER = textwrap.dedent(
    """
    import json, logging, os, sys, time
    logging.disable(logging.WARNING)
    os.sched_setaffinity(0, {int(sys.argv[2])})
    from data_juicer.ops import filter as dj_filter
    from data_juicer.utils.constant import Fields
    import data_juicer
    texts = json.load(open(sys.argv[1]))
    print("DJRESULT " + json.dumps({"version": data_juicer.__version__}), flush=True)
    ops = {}
    for line in sys.stdin:
        cmd = json.loads(line)
        key = (cmd["op"], json.dumps(cmd["args"], sort_keys=True))
        if key not in ops:
            ops[key] = getattr(dj_filter, cmd["op"])(**cmd["args"])
        op = ops[key]
        cpu, wall = time.process_time(), time.perf_counter()
        stats = []
        for i in range(0, len(texts), 500):
            part = texts[i:i + 500]
            out = op.compute_stats_batched({"text": part, Fields.stats: [{} for _ in part]})
            stats.extend(s[cmd["key"]] for s in out[Fields.stats])
        cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
        print("DJRESULT " + json.dumps({"cpu": cpu, "wall": wall, "values": stats if cmd.get("values") else None}),
              flush=True)
    """
)


def median(values: list[float]) -> float:
    ordered = sorted(values)
    mid = len(ordered) // 2
    return ordered[mid] if len(ordered) % 2 else (ordered[mid - 1] + ordered[mid]) / 2


def pin_one_core() -> int:
    core = sorted(os.sched_getaffinity(0))[0]
    os.sched_setaffinity(0, {core})
    return core


def setup() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "arena.settings")
    import django

    django.setup()


def clear_caches() -> None:
    from scoring.scorers.readability import syllables
    from scoring.text_features import count_spectrum, lowered, ngram_count_values, words

    for cached in (lowered, words, ngram_count_values, count_spectrum, syllables):
        cached.cache_clear()


def same(a: float | None, b: float | None) -> bool:
    if a is None or b is None:
        return a is None and b is None
    return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-12)


def row(*, comparison: str, arena: float, contender: str, contender_value: float, unit: str, target: float | None,
        rounds: int, notes: str) -> dict:
    ratio = arena / contender_value if contender_value else 0.0
    return {"comparison": comparison, "arena": round(arena, 1), "contender": contender,
            "contender_value": round(contender_value, 1), "unit": unit, "ratio": round(ratio, 3), "target": target,
            "met": None if target is None else round(ratio, 3) >= target, "rounds": rounds, "notes": notes}


class Timed:
    """A contender that records the CPU seconds (this process) of each call next to interleave's wall seconds."""

    def __init__(self, work: Callable[[], None]) -> None:
        self.work, self.cpu = work, []

    def __call__(self) -> None:
        began = time.process_time()
        self.work()
        self.cpu.append(time.process_time() - began)


class DataJuicerWorker:
    def __init__(self, python: str, texts: list[str], core: int) -> None:
        self.dir = tempfile.TemporaryDirectory()
        data, script = os.path.join(self.dir.name, "texts.json"), os.path.join(self.dir.name, "dj_worker.py")
        with open(data, "w", encoding="utf-8") as f:
            json.dump(texts, f)
        with open(script, "w", encoding="utf-8") as f:
            f.write(DJ_WORKER)
        self.proc = subprocess.Popen([python, script, data, str(core)], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, text=True)
        self.version = self.reply()["version"]
        self.cpu: list[float] = []

    def run(self, *, op: str, args: dict, key: str, values: bool = False) -> dict:
        self.proc.stdin.write(json.dumps({"op": op, "args": args, "key": key, "values": values}) + "\n")
        self.proc.stdin.flush()
        return self.reply()

    def reply(self) -> dict:
        """The worker's next result line (data-juicer itself may print other lines to stdout)."""
        while line := self.proc.stdout.readline():
            if line.startswith("DJRESULT "):
                return json.loads(line[len("DJRESULT "):])
        raise RuntimeError(f"data-juicer worker stopped: {self.proc.stderr.read()[-2000:]}")

    def close(self) -> None:
        self.proc.stdin.close()
        self.proc.wait(timeout=60)
        self.dir.cleanup()


def run(*, quick: bool) -> list[dict]:
    setup()
    core = pin_one_core()
    from bench.comparisons._sharegpt_like import sharegpt_like
    from bench.heuristic_references import REFERENCES
    from scoring.scorers.base import SampleText, build_scorer

    n, rounds = (300, 3) if quick else (1500, 5)
    data = sharegpt_like(n, seed=11)
    pairs = [(d["instruction"], d["response"]) for d in data]
    samples = [SampleText(idx=i, instruction=q, response=a) for i, (q, a) in enumerate(pairs)]
    batches = [samples[i : i + BATCH] for i in range(0, n, BATCH)]
    names = list(REFERENCES)
    scorers = {name: build_scorer(name) for name in names}
    load = f"load {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs, pinned to CPU {core}"
    rows: list[dict] = []

    def arena_runner(chosen: list[str]) -> Callable[[], None]:
        def work() -> None:
            clear_caches()
            for batch in batches:
                for name in chosen:
                    scorers[name].score_batch(batch)

        return work

    def reference_runner(chosen: list[str]) -> Callable[[], None]:
        functions = [REFERENCES[name] for name in chosen]

        def work() -> None:
            for q, a in pairs:
                for function in functions:
                    function(q, a)

        return work

    # every scorer against its reference, after checking they agree on every sample
    for name in names:
        clear_caches()
        ours = scorers[name].score_batch(samples)
        theirs = [REFERENCES[name](q, a) for q, a in pairs]
        mismatches = sum(1 for x, y in zip(ours, theirs) if not same(x, y))
        if mismatches:
            raise AssertionError(f"{name}: Arena and the reference disagree on {mismatches} of {n} samples")
        arena, reference = Timed(arena_runner([name])), Timed(reference_runner([name]))
        wall = interleave({"arena": arena, "reference": reference}, rounds=rounds)
        rows.append(row(
            comparison=f"heuristic {name}", arena=n / median(arena.cpu),
            contender="plain-Python reference (bench/heuristic_references.py)",
            contender_value=n / median(reference.cpu), unit="samples/s per core", target=1.0, rounds=rounds,
            notes=f"{n} ShareGPT-length samples, same values on all; CPU-time medians; wall medians "
                  f"{n / median(wall['arena']):,.0f} vs {n / median(wall['reference']):,.0f}/s; {load}",
        ))

    # the full pass: the issue's 15 heuristics, and every sample-scope heuristic
    for label, chosen in ((f"full pass, the issue's {len(ISSUE_15)} heuristics", list(ISSUE_15)),
                          (f"full pass, all {len(names)} sample heuristics", names)):
        arena, reference = Timed(arena_runner(chosen)), Timed(reference_runner(chosen))
        wall = interleave({"arena": arena, "reference": reference}, rounds=max(1, rounds - 2))
        rate = n / median(arena.cpu)
        notes = (f"{n} ShareGPT-length samples (median instruction {sorted(map(len, (q for q, _ in pairs)))[n // 2]:,} "
                 f"and response {sorted(map(len, (a for _, a in pairs)))[n // 2]:,} characters), every scorer on every "
                 f"sample in 500-sample batches; CPU-time medians; wall {n / median(wall['arena']):,.0f}/s; {load}")
        rows.append(row(comparison=label, arena=rate, contender="plain-Python references, same statistics",
                        contender_value=n / median(reference.cpu), unit="samples/s per core", target=1.0,
                        rounds=max(1, rounds - 2), notes=notes))
        rows.append(row(comparison=label, arena=rate, contender="target 2,000 samples/s per core",
                        contender_value=PASS_TARGET, unit="samples/s per core", target=1.0,
                        rounds=max(1, rounds - 2), notes=notes))

    rows += data_juicer_rows(pairs=pairs, samples=samples, batches=batches, scorers_by_name=build_scorer,
                             rounds=rounds, core=core, load=load)
    return rows


def data_juicer_rows(*, pairs, samples, batches, scorers_by_name, rounds: int, core: int, load: str) -> list[dict]:
    n = len(pairs)
    python = os.environ.get("ARENA_DJ_PYTHON", "")
    if not python:
        return [row(comparison=f"heuristic vs data-juicer: {label}", arena=0.0,
                    contender=f"py-data-juicer {op} (not installed: set ARENA_DJ_PYTHON)", contender_value=0.0,
                    unit="samples/s per core", target=None, rounds=0, notes="not run")
                for label, op, _, _, _ in DJ_PAIRS]
    worker = DataJuicerWorker(python, [a for _, a in pairs], core)
    rows = []
    try:
        for label, op, args, key, scorer_name in DJ_PAIRS:
            scorer = scorers_by_name(scorer_name, config=None)
            agreement = ""
            if scorer_name in DJ_SAME_VALUES:
                clear_caches()
                ours = scorer.score_batch(samples)
                theirs = worker.run(op=op, args=args, key=key, values=True)["values"]
                differ = sum(1 for x, y in zip(ours, theirs) if not same(0.0 if x is None else x, y))
                agreement = f"values identical on {n - differ} of {n} samples; "
            arena_cpu: list[float] = []
            dj: list[dict] = []

            def arena_work() -> None:
                clear_caches()
                began = time.process_time()
                for batch in batches:
                    scorer.score_batch(batch)
                arena_cpu.append(time.process_time() - began)

            def dj_work() -> None:
                dj.append(worker.run(op=op, args=args, key=key))

            interleave({"arena": arena_work, "data-juicer": dj_work}, rounds=rounds)
            rows.append(row(
                comparison=f"heuristic vs data-juicer: {label}", arena=n / median(arena_cpu),
                contender=f"py-data-juicer {worker.version} {op}{'(' + ', '.join(f'{k}={v}' for k, v in args.items()) + ')' if args else ''}",
                contender_value=n / median([d["cpu"] for d in dj]), unit="samples/s per core", target=2.0,
                rounds=rounds,
                notes=f"Arena {scorer_name} vs data-juicer {key} on the same {n} response texts, one core each "
                      f"(same CPU), CPU-time medians (wall: data-juicer {n / median([d['wall'] for d in dj]):,.0f}/s); "
                      f"{agreement}{load}",
            ))
    finally:
        worker.close()
    return rows


if __name__ == "__main__":
    quick = "--quick" in sys.argv[1:]
    for result in run(quick=quick):
        print(json.dumps(result, ensure_ascii=False))
