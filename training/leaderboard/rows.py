"""The viewer-independent part of every leaderboard row, built once per board and view and kept with the board.

A row's score, interval, IQM, delta, seeds, coverage, domain and benchmark scores depend only on the board (the
evaluation results); its rank, efficiency and dataset facts depend on who is looking and are added per request
by ``training.leaderboard.selectors.leaderboard_get``. Building the 1,000 static parts once instead of on every
request is most of a warm request's Python time. The nested dicts are shared between requests: read-only.
"""
from __future__ import annotations

import math
import threading

import numpy as np

from training.leaderboard.compute import DOMAINS, Board

_lock = threading.Lock()


def _num(value: float) -> float | None:
    return None if math.isnan(value) else value


def static_rows(*, board: Board, k: int, bench_cols: tuple[int, ...]) -> tuple[list[dict], list[dict]]:
    """For every dataset of the board (board order): ``(head, tail)`` parts of its row, ``head`` the fields
    from ``score`` to ``delta_ci_high``, ``tail`` those from ``n_seeds`` on (``efficiency`` goes between)."""
    key = (k, bench_cols)
    memo = board.__dict__.setdefault("_static_rows", {})
    if key in memo:
        return memo[key]
    block = board.datasets
    ref_cov = board.reference_on_coverage[:, k]
    scores, lo, hi = block.scores[:, k], block.ci_low[:, k], block.ci_high[:, k]
    cols = list(bench_cols)
    counted_cols = [j for j in cols if board.counted[j]]
    coverage_den = max(len(counted_cols), 1)
    bench_slugs = [board.benchmarks[j].slug for j in cols]
    n = len(board.dataset_ids)
    c = {
        "score": scores.tolist(), "lo": lo.tolist(), "hi": hi.tolist(), "iqm": block.iqm[:, k].tolist(),
        "delta": (scores - ref_cov).tolist(), "dlo": (lo - ref_cov).tolist(), "dhi": (hi - ref_cov).tolist(),
        "dom": block.scores[:, 1:].tolist(),
        "bench": block.bench_means[:, cols].tolist() if cols else [[]] * n,
        "seeds": block.n_seeds[:, counted_cols].tolist() if counted_cols else [[]] * n,
    }
    heads, tails = [], []
    for i in range(n):
        seeds = [s for s in c["seeds"][i] if s > 0]
        heads.append({
            "score": _num(c["score"][i]), "ci_low": _num(c["lo"][i]), "ci_high": _num(c["hi"][i]),
            "iqm": _num(c["iqm"][i]), "delta": _num(c["delta"][i]), "delta_ci_low": _num(c["dlo"][i]),
            "delta_ci_high": _num(c["dhi"][i]),
        })
        tails.append({
            "n_seeds": min(seeds) if seeds else 0,
            "coverage": len(seeds) / coverage_den,
            "domain_scores": {d: _num(v) for d, v in zip(DOMAINS, c["dom"][i])},
            "benchmarks": {s: _num(v) for s, v in zip(bench_slugs, c["bench"][i])},
        })
    with _lock:
        memo[key] = (heads, tails)
    return heads, tails


def efficiency(*, delta: np.ndarray, sizes: np.ndarray) -> np.ndarray:
    """Delta per 1,000 training samples (NaN without a size)."""
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(sizes > 0, delta / (sizes / 1000.0), np.nan)
