"""Statistics for the leaderboard: stratified bootstrap, IQM, probability of improvement, ranks with ties.

Pure numpy/scipy functions with no database access, so they can be tested against hand-computed values.

Definitions (also shown on the leaderboard page):

* **Stratified bootstrap.** Each benchmark is a stratum. One bootstrap resample draws, independently in every
  benchmark, ``k`` seeds with replacement from that benchmark's ``k`` seeds, then recomputes the aggregate
  (benchmark means -> domain averages -> overall). The 95% interval is the 2.5th-97.5th percentile of
  ``BOOTSTRAP_RESAMPLES`` resamples. The resampling counts come from a generator seeded with
  ``BOOTSTRAP_SEED`` and depend only on (number of benchmarks, seeds per benchmark), never on the other
  datasets, so a dataset's interval is the same whether it is computed alone or in a batch.
* **IQM** (interquartile mean, as in rliable): ``scipy.stats.trim_mean(scores, 0.25)`` over the pooled
  per-(benchmark, seed) scores: the mean of the middle 50%.
* **P(X > Y)** (rliable's "probability of improvement"): for each benchmark both datasets have, the
  Mann-Whitney statistic over all seed pairs, ``(#{x > y} + 0.5 #{x == y}) / (k_x k_y)``, then the mean over
  those benchmarks. ``P(X > Y) + P(Y > X) = 1``.
* **Rank with ties:** ``rank = 1 + #{datasets whose interval lower bound is above this one's upper bound}``.
  Datasets whose intervals overlap share a rank.
"""
from __future__ import annotations

import functools
from collections.abc import Sequence

import numpy as np
from scipy import stats as sp_stats

BOOTSTRAP_RESAMPLES = 2000
BOOTSTRAP_SEED = 20_260_101
CI_LEVEL = 0.95


def iqm(values: Sequence[float] | np.ndarray) -> float:
    """Interquartile mean of the finite values (NaN when there are none)."""
    arr = np.asarray(values, dtype=float).ravel()
    arr = arr[np.isfinite(arr)]
    if arr.size == 0:
        return float("nan")
    return float(sp_stats.trim_mean(arr, proportiontocut=0.25))


@functools.lru_cache(maxsize=16)
def bootstrap_counts(*, n_strata: int, max_seeds: int, n_resamples: int = BOOTSTRAP_RESAMPLES,
                     seed: int = BOOTSTRAP_SEED) -> dict[int, np.ndarray]:
    """Resampling counts per number of seeds ``k``: ``counts[k][r, b, s]`` is how often seed slot ``s`` of
    benchmark ``b`` is drawn in resample ``r`` (each row sums to ``k``). Drawn in the fixed order k = 1, 2, ...
    so ``counts[k]`` does not depend on ``max_seeds``. Cached (the arrays are read-only)."""
    rng = np.random.default_rng(seed)
    out: dict[int, np.ndarray] = {}
    for k in range(1, max_seeds + 1):
        if k == 1:
            out[k] = np.ones((n_resamples, n_strata, 1))
        else:
            out[k] = rng.multinomial(k, np.full(k, 1.0 / k), size=(n_resamples, n_strata)).astype(float)
        out[k].setflags(write=False)
    return out


def stratified_bootstrap(*, values: np.ndarray, weights: np.ndarray, n_resamples: int = BOOTSTRAP_RESAMPLES,
                         seed: int = BOOTSTRAP_SEED, chunk: int = 256) -> np.ndarray:
    """Bootstrap distribution of ``sum_b weights[n, b] * mean_over_seeds(values[n, b, :])``.

    ``values[n, b, s]``: score of dataset ``n`` on benchmark ``b`` for its ``s``-th seed, NaN-padded at the end
    (a benchmark with ``k`` seeds fills slots ``0..k-1``). ``weights[n, b]`` is 0 where a benchmark does not
    count. Returns ``[n, n_resamples]``. The aggregate is linear in the resampled seed means, so every
    resample is one matrix product per seed count ``k`` (vectorised; datasets processed in chunks to bound
    memory).
    """
    values = np.asarray(values, dtype=float)
    weights = np.asarray(weights, dtype=float)
    n, n_bench, max_seeds = values.shape
    if n == 0:
        return np.zeros((0, n_resamples))
    finite = np.isfinite(values)
    k_per = finite.sum(axis=2)  # seeds per (dataset, benchmark)
    if np.any((k_per == 0) & (weights != 0)):
        raise ValueError("a weighted benchmark has no seed values")
    counts = bootstrap_counts(n_strata=n_bench, max_seeds=max(int(k_per.max(initial=0)), 1),
                              n_resamples=n_resamples, seed=seed)
    filled = np.where(finite, values, 0.0)
    out = np.zeros((n, n_resamples))
    for start in range(0, n, chunk):
        sl = slice(start, start + chunk)
        for k, cnt in counts.items():
            mask = (k_per[sl] == k) & (weights[sl] != 0)
            if not mask.any():
                continue
            # x[n, b, s] = w[n, b] * v[n, b, s] / k for the benchmarks with exactly k seeds
            x = (weights[sl] * mask / k)[:, :, None] * filled[sl, :, :k]
            out[sl] += x.reshape(x.shape[0], -1) @ cnt.reshape(n_resamples, -1).T
    return out


def stratified_bootstrap_intervals(*, values: np.ndarray, weights: np.ndarray, level: float = CI_LEVEL,
                                   n_resamples: int = BOOTSTRAP_RESAMPLES, seed: int = BOOTSTRAP_SEED,
                                   chunk: int = 128) -> tuple[np.ndarray, np.ndarray]:
    """Percentile intervals of several aggregates at once: ``weights[n, a, b]`` defines aggregate ``a`` of
    dataset ``n`` (as in :func:`stratified_bootstrap`, same resamples). Returns ``(low, high)``, each
    ``[n, a]``. One matrix product per seed count for all aggregates; bootstrap samples live only per chunk
    of datasets, so memory stays bounded whatever ``n``."""
    values = np.asarray(values, dtype=float)
    weights = np.asarray(weights, dtype=float)
    n, n_agg, n_bench = weights.shape
    low = np.full((n, n_agg), np.nan)
    high = np.full((n, n_agg), np.nan)
    if n == 0:
        return low, high
    finite = np.isfinite(values)
    k_per = finite.sum(axis=2)
    if np.any((k_per[:, None, :] == 0) & (weights != 0)):
        raise ValueError("a weighted benchmark has no seed values")
    counts = bootstrap_counts(n_strata=n_bench, max_seeds=max(int(k_per.max(initial=0)), 1),
                              n_resamples=n_resamples, seed=seed)
    filled = np.where(finite, values, 0.0)
    for start in range(0, n, chunk):
        sl = slice(start, start + chunk)
        m = filled[sl].shape[0]
        samples = np.zeros((m * n_agg, n_resamples))
        for k, cnt in counts.items():
            mask = (k_per[sl] == k)[:, None, :] & (weights[sl] != 0)  # [m, a, b]
            if not mask.any():
                continue
            # x[m, a, b, s] = w[m, a, b] * v[m, b, s] / k for the benchmarks with exactly k seeds
            x = (weights[sl] * mask / k)[:, :, :, None] * filled[sl, None, :, :k]
            samples += x.reshape(m * n_agg, n_bench * k) @ cnt.reshape(n_resamples, n_bench * k).T
        lo, hi = percentile_interval(samples, level=level)
        low[sl], high[sl] = lo.reshape(m, n_agg), hi.reshape(m, n_agg)
    return low, high


def percentile_interval(samples: np.ndarray, *, level: float = CI_LEVEL) -> tuple[np.ndarray, np.ndarray]:
    """Lower and upper percentile bounds along the last axis."""
    tail = (1.0 - level) / 2.0 * 100.0
    lo, hi = np.percentile(samples, [tail, 100.0 - tail], axis=-1)
    return lo, hi


def probability_of_improvement(x: Sequence[Sequence[float]], y: Sequence[Sequence[float]]) -> float:
    """P(X > Y): mean over paired benchmarks of the Mann-Whitney statistic over seed pairs.

    ``x[b]`` and ``y[b]`` are the seed scores of X and Y on benchmark ``b``; a benchmark where either has no
    seeds is skipped. NaN when no benchmark is shared.
    """
    if len(x) != len(y):
        raise ValueError("x and y must list the same benchmarks")
    per_bench = []
    for xs, ys in zip(x, y):
        xa = np.asarray(xs, dtype=float)
        ya = np.asarray(ys, dtype=float)
        xa, ya = xa[np.isfinite(xa)], ya[np.isfinite(ya)]
        if xa.size == 0 or ya.size == 0:
            continue
        diff = xa[:, None] - ya[None, :]
        per_bench.append(((diff > 0).sum() + 0.5 * (diff == 0).sum()) / diff.size)
    return float(np.mean(per_bench)) if per_bench else float("nan")


def rank_with_ties(lower: np.ndarray, upper: np.ndarray) -> np.ndarray:
    """``1 + #{j : lower[j] > upper[i]}`` for every ``i`` (intervals that overlap share a rank)."""
    lower = np.asarray(lower, dtype=float)
    upper = np.asarray(upper, dtype=float)
    if lower.size == 0:
        return np.zeros(0, dtype=int)
    sorted_lower = np.sort(lower)
    above = lower.size - np.searchsorted(sorted_lower, upper, side="right")
    return (1 + above).astype(int)


def spearman_with_ci(x: Sequence[float], y: Sequence[float], *, n_resamples: int = BOOTSTRAP_RESAMPLES,
                     seed: int = BOOTSTRAP_SEED, level: float = CI_LEVEL) -> dict:
    """Spearman's rho between paired values with a percentile bootstrap interval (pairs resampled).

    Returns ``{"rho", "ci_low", "ci_high", "n"}``; values are None when fewer than 3 pairs or no variation.
    """
    xa = np.asarray(x, dtype=float)
    ya = np.asarray(y, dtype=float)
    keep = np.isfinite(xa) & np.isfinite(ya)
    xa, ya = xa[keep], ya[keep]
    n = int(xa.size)
    empty = {"rho": None, "ci_low": None, "ci_high": None, "n": n}
    if n < 3 or np.ptp(xa) == 0 or np.ptp(ya) == 0:
        return empty
    rho = float(sp_stats.spearmanr(xa, ya).statistic)
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, n, size=(n_resamples, n))
    rx = sp_stats.rankdata(xa[idx], axis=1)
    ry = sp_stats.rankdata(ya[idx], axis=1)
    rx -= rx.mean(axis=1, keepdims=True)
    ry -= ry.mean(axis=1, keepdims=True)
    denom = np.sqrt((rx**2).sum(axis=1) * (ry**2).sum(axis=1))
    valid = denom > 0  # a resample that drew one value only has no defined correlation
    boot = (rx * ry).sum(axis=1)[valid] / denom[valid]
    lo, hi = percentile_interval(boot, level=level)
    return {"rho": rho, "ci_low": float(lo), "ci_high": float(hi), "n": n}


def iqm_rows(values: np.ndarray) -> np.ndarray:
    """Row-wise :func:`iqm` of a 2-D array whose missing entries are NaN (vectorised; NaN for empty rows).

    Matches ``scipy.stats.trim_mean(row, 0.25)``: ``int(0.25 * count)`` values cut from each end.
    """
    arr = np.sort(np.asarray(values, dtype=float), axis=1)  # NaN sort last
    count = np.isfinite(arr).sum(axis=1)
    cut = (0.25 * count).astype(int)
    pos = np.arange(arr.shape[1])[None, :]
    keep = (pos >= cut[:, None]) & (pos < (count - cut)[:, None])
    kept = keep.sum(axis=1)
    total = np.where(keep, np.nan_to_num(arr), 0.0).sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(kept > 0, total / np.maximum(kept, 1), np.nan)


def per_benchmark_bootstrap(*, values: np.ndarray, n_resamples: int = BOOTSTRAP_RESAMPLES,
                            seed: int = BOOTSTRAP_SEED) -> np.ndarray:
    """Bootstrap distribution of each benchmark's seed mean: ``[n, n_bench, n_resamples]`` (NaN where a
    benchmark has no seeds). Uses the same resampling counts as :func:`stratified_bootstrap`."""
    values = np.asarray(values, dtype=float)
    n, n_bench, _ = values.shape
    finite = np.isfinite(values)
    k_per = finite.sum(axis=2)
    counts = bootstrap_counts(n_strata=n_bench, max_seeds=max(int(k_per.max(initial=0)), 1),
                              n_resamples=n_resamples, seed=seed)
    filled = np.where(finite, values, 0.0)
    out = np.full((n, n_bench, n_resamples), np.nan)
    for k, cnt in counts.items():
        mask = k_per == k
        if not mask.any():
            continue
        means = np.einsum("nbs,rbs->nbr", filled[:, :, :k], cnt) / k
        out = np.where(mask[:, :, None], means, out)
    return out
