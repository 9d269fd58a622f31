"""Shared timing helpers for ``bench/compare.py`` comparisons.

``interleave`` runs every contender once per round, in turn (A, B, A, B, ...), so a machine whose load
changes during the run slows every contender alike; compare medians, and publish their ratio.
``interleave_measured`` also records CPU seconds (this process and the children it waited for).
``run_child`` runs a Python snippet in a fresh interpreter and returns what it measured about itself,
plus its CPU seconds and peak RSS as the kernel reports them (``os.wait4``), so a contender that uses
threads, or allocates a lot, is measured whole and alone.
"""
from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def median(values: list[float]) -> float:
    if not values:
        raise ValueError("median of no values")
    ordered = sorted(values)
    middle = len(ordered) // 2
    return ordered[middle] if len(ordered) % 2 else (ordered[middle - 1] + ordered[middle]) / 2


def _cpu_now() -> float:
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return time.process_time() + children.ru_utime + children.ru_stime


def interleave_measured(contenders: dict[str, Callable[[], None]], *, rounds: int) -> dict[str, dict[str, list[float]]]:
    """``{name: {"wall": [...], "cpu": [...]}}``: seconds per round, contenders run A, B, A, B, ..."""
    if rounds < 1:
        raise ValueError("rounds must be >= 1")
    out: dict[str, dict[str, list[float]]] = {name: {"wall": [], "cpu": []} for name in contenders}
    for round_no in range(rounds):
        # alternate the order each round too, so no contender always runs first (cold) or last
        names = list(contenders) if round_no % 2 == 0 else list(reversed(list(contenders)))
        for name in names:
            cpu0, wall0 = _cpu_now(), time.perf_counter()
            contenders[name]()
            wall = time.perf_counter() - wall0
            out[name]["wall"].append(wall)
            out[name]["cpu"].append(_cpu_now() - cpu0)
    return out


def interleave(contenders: dict[str, Callable[[], None]], *, rounds: int) -> dict[str, list[float]]:
    """Wall seconds per round for each contender, run A, B, A, B, ... (see ``interleave_measured`` for CPU)."""
    return {name: figures["wall"] for name, figures in interleave_measured(contenders, rounds=rounds).items()}


def run_child(code: str, *, timeout: float = 900) -> dict:
    """Run ``code`` in a fresh interpreter (repository root on sys.path, cwd = root).

    The snippet prints one JSON object as its last stdout line (what it measured about its own work,
    e.g. ``{"wall": ..., "cpu": ...}`` around the timed part only, imports excluded). Returned: that object
    plus ``child_cpu`` (user+sys seconds of the whole child, threads included) and ``peak_rss_mb``.
    """
    env = dict(os.environ, PYTHONPATH=ROOT + os.pathsep + os.environ.get("PYTHONPATH", ""))
    env.setdefault("DJANGO_SETTINGS_MODULE", "arena.settings")
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        proc = subprocess.Popen([sys.executable, "-c", code], stdout=out, stderr=err, cwd=ROOT, env=env)
        deadline = time.monotonic() + timeout
        while True:
            pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                break
            if time.monotonic() > deadline:
                proc.kill()
                os.wait4(proc.pid, 0)
                raise TimeoutError(f"child ran past {timeout}s")
            time.sleep(0.01)
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read().decode(), err.read().decode()
    if proc.returncode != 0:
        raise RuntimeError(f"child failed (exit {proc.returncode}):\n{stderr[-4000:]}")
    lines = [line for line in stdout.strip().splitlines() if line.strip()]
    figures = json.loads(lines[-1])
    figures["child_cpu"] = usage.ru_utime + usage.ru_stime
    figures["peak_rss_mb"] = usage.ru_maxrss / 1024
    return figures


def interleave_children(snippets: dict[str, str], *, rounds: int) -> dict[str, list[dict]]:
    """Run each snippet with ``run_child`` once per round, interleaved; ``{name: [figures per round]}``."""
    results: dict[str, list[dict]] = {name: [] for name in snippets}

    def runner(name: str) -> Callable[[], None]:
        return lambda: results[name].append(run_child(snippets[name]))

    interleave({name: runner(name) for name in snippets}, rounds=rounds)
    return results
