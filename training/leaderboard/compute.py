"""The leaderboard computation for one base model: the heavy, viewer-independent part, cached.

What is computed (per dataset, and for the base model's own reference row):

* per-benchmark score: the mean over seeds of the succeeded jobs' ``EvalResult.score`` (each succeeded job's
  result is one replicate);
* per-domain average (general, math, code, reasoning): the mean of the benchmark scores of that domain;
* overall: the mean of the domain averages (domains without any result are left out);
* the reference row is the base model's own evaluation (``Job.dataset is None``). When it exists, only the
  benchmarks it was evaluated on count in the aggregates, and the delta of a dataset is measured against the
  reference on exactly the benchmarks that dataset has, ``delta = score - reference score on the same
  benchmarks`` (with full coverage simply ``score - reference score``). The reference is a fixed baseline:
  the delta interval is the score interval shifted by it;
* stratified-bootstrap 95% intervals and IQM for the overall score and every domain average (see ``stats``).

Everything here depends only on the evaluation results, not on who is looking: the visible subset, ranks,
filters and efficiency are applied per request by ``training.leaderboard.selectors``. The result is cached
under a version stamp (count, max id and sum of ids of the base model's succeeded results), so a new,
removed or replaced result (or a job changing status) invalidates it on the next request.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from django.contrib.postgres.aggregates import ArrayAgg
from django.core.cache import cache
from django.db import connection
from django.db.models import Count, Max, Sum

from arena.domains import BENCHMARK_DOMAINS
from training.leaderboard import stats
from training.models import BaseModel, Benchmark, EvalResult, Job

DOMAINS: tuple[str, ...] = BENCHMARK_DOMAINS  # the one vocabulary: arena.domains
KEYS: tuple[str, ...] = ("overall", *DOMAINS)
CACHE_PREFIX = "arena:leaderboard:v1"
CACHE_SECONDS = 24 * 3600


@dataclass(frozen=True)
class BenchmarkColumn:
    id: int
    slug: str
    name: str
    domain: str


@dataclass
class ScoreBlock:
    """Scores of ``n`` entries (datasets, or the single reference). Arrays are indexed ``[entry, ...]``;
    ``K`` runs over ``KEYS`` and ``B`` over the board's benchmarks."""

    values: np.ndarray  # [n, B, S] seed scores, NaN-padded
    bench_means: np.ndarray  # [n, B]
    n_seeds: np.ndarray  # [n, B]
    weights: np.ndarray  # [n, K, B] how each benchmark counts in each aggregate
    scores: np.ndarray  # [n, K]
    ci_low: np.ndarray  # [n, K]
    ci_high: np.ndarray  # [n, K]
    iqm: np.ndarray  # [n, K]


@dataclass
class Board:
    base_model_id: int
    stamp: tuple
    benchmarks: list[BenchmarkColumn]
    counted: np.ndarray  # [B] bool: benchmark counts in the aggregates (the reference's benchmarks, if any)
    dataset_ids: np.ndarray  # [n]
    datasets: ScoreBlock
    reference: ScoreBlock | None  # one entry
    reference_on_coverage: np.ndarray  # [n, K] the reference's score on each dataset's benchmarks (NaN: none)

    def index_of(self) -> dict[int, int]:
        return {int(pk): i for i, pk in enumerate(self.dataset_ids.tolist())}


def board_stamp(*, base_model: BaseModel) -> tuple:
    """A cheap version stamp: count, max id and sum of ids of the base model's succeeded jobs (index on
    (base_model, status)) and the newest ``EvalResult`` id (primary-key index). A job that succeeds, fails
    or is deleted, and any new or re-created result, changes it. Not covered: editing a stored score in place
    or deleting a single result without its job (results are written once by the training engine)."""
    agg = Job.objects.filter(base_model_id=base_model.pk, status=Job.Status.SUCCEEDED).aggregate(
        n=Count("id"), last=Max("id"), total=Sum("id")
    )
    last_result = EvalResult.objects.aggregate(last=Max("id"))["last"]
    return (agg["n"], agg["last"], agg["total"], last_result)


_memo: dict[str, Board] = {}  # this process's boards by cache key: skips unpickling on every request
_MEMO_SIZE = 16


def board_get(*, base_model: BaseModel) -> Board:
    """The computed board, from the cache when its stamp is current."""
    stamp = board_stamp(base_model=base_model)
    key = f"{CACHE_PREFIX}:{base_model.pk}:{':'.join(str(s) for s in stamp)}"
    board = _memo.get(key)
    if board is not None and cache.get(f"{key}:alive"):
        return board
    board = cache.get(key)
    if board is None:
        board = board_compute(base_model=base_model, stamp=stamp)
        cache.set(key, board, CACHE_SECONDS)
    cache.set(f"{key}:alive", True, CACHE_SECONDS)
    while len(_memo) >= _MEMO_SIZE:  # drop the oldest; tolerate another thread dropping it first
        _memo.pop(next(iter(_memo), None), None)
    _memo[key] = board
    return board


def _seed_scores(*, base_model: BaseModel) -> list[tuple[int | None, int, list[float]]]:
    """(dataset id, benchmark id, scores ordered by seed) of the base model's succeeded jobs.

    PostgreSQL aggregates the seed scores into arrays; other databases (the SQLite demo) group in Python.
    """
    results = EvalResult.objects.filter(job__base_model_id=base_model.pk, job__status=Job.Status.SUCCEEDED).order_by()
    if connection.vendor == "postgresql":
        return list(
            results.values("job__dataset_id", "benchmark_id")
            .annotate(scores=ArrayAgg("score", order_by=("job__seed", "job_id")))
            .values_list("job__dataset_id", "benchmark_id", "scores")
        )
    grouped: dict[tuple[int | None, int], list[float]] = {}
    ordered = results.order_by("job__seed", "job_id").values_list("job__dataset_id", "benchmark_id", "score")
    for dataset_id, benchmark_id, score in ordered:
        grouped.setdefault((dataset_id, benchmark_id), []).append(score)
    return [(d, b, scores) for (d, b), scores in grouped.items()]


def board_compute(*, base_model: BaseModel, stamp: tuple = ()) -> Board:
    """Aggregate the results in SQL per (dataset, benchmark) -- seed scores as an array -- then compute."""
    rows = _seed_scores(base_model=base_model)
    bench_ids = sorted({b for _, b, _ in rows})
    benchmarks = [
        BenchmarkColumn(id=b.pk, slug=b.slug, name=b.name, domain=b.domain)
        for b in Benchmark.objects.filter(pk__in=bench_ids).order_by("domain", "name")
    ]
    col = {b.id: j for j, b in enumerate(benchmarks)}
    dataset_ids = np.array(sorted({d for d, _, _ in rows if d is not None}), dtype=np.int64)
    row_of = {int(d): i for i, d in enumerate(dataset_ids.tolist())}
    max_seeds = max((len(s) for _, _, s in rows), default=1)
    n, n_bench = len(dataset_ids), len(benchmarks)
    values = np.full((n, n_bench, max_seeds), np.nan)
    ref_values = np.full((1, n_bench, max_seeds), np.nan)
    has_reference = False
    for dataset_id, bench_id, scores in rows:
        if dataset_id is None:
            ref_values[0, col[bench_id], : len(scores)] = scores
            has_reference = True
        else:
            values[row_of[dataset_id], col[bench_id], : len(scores)] = scores
    domain_of = np.array([DOMAINS.index(b.domain) for b in benchmarks], dtype=int)
    counted = np.isfinite(ref_values[0]).any(axis=1) if has_reference else np.ones(n_bench, dtype=bool)

    datasets = _score_block(values=values, counted=counted, domain_of=domain_of)
    reference = _score_block(values=ref_values, counted=counted, domain_of=domain_of) if has_reference else None
    if reference is not None:
        # sum_b W[n, k, b] * ref[b]: the reference evaluated on each dataset's own benchmarks
        ref_means = np.nan_to_num(reference.bench_means[0])
        on_coverage = np.einsum("nkb,b->nk", datasets.weights, ref_means)
        on_coverage[datasets.weights.sum(axis=2) == 0] = np.nan
    else:
        on_coverage = np.full((n, len(KEYS)), np.nan)
    return Board(
        base_model_id=base_model.pk,
        stamp=stamp,
        benchmarks=benchmarks,
        counted=counted,
        dataset_ids=dataset_ids,
        datasets=datasets,
        reference=reference,
        reference_on_coverage=on_coverage,
    )


def aggregate_weights(*, has: np.ndarray, domain_of: np.ndarray) -> np.ndarray:
    """``W[n, k, b]`` such that aggregate ``k`` of entry ``n`` is ``sum_b W[n, k, b] * benchmark_mean[n, b]``.

    Domain ``d``: equal weight over the entry's benchmarks of that domain. Overall: equal weight per domain
    that has at least one benchmark, split equally among its benchmarks.
    """
    n, n_bench = has.shape
    weights = np.zeros((n, len(KEYS), n_bench))
    domain_weights = []
    for d in range(len(DOMAINS)):
        in_domain = has & (domain_of == d)[None, :]
        count = in_domain.sum(axis=1, keepdims=True)
        w = np.where(count > 0, in_domain / np.maximum(count, 1), 0.0)
        weights[:, 1 + d, :] = w
        domain_weights.append(w)
    n_domains = sum((w.sum(axis=1) > 0).astype(int) for w in domain_weights)
    overall = sum(domain_weights)
    weights[:, 0, :] = np.where(n_domains[:, None] > 0, overall / np.maximum(n_domains, 1)[:, None], 0.0)
    return weights


def _score_block(*, values: np.ndarray, counted: np.ndarray, domain_of: np.ndarray) -> ScoreBlock:
    n, n_bench, max_seeds = values.shape
    finite = np.isfinite(values)
    n_seeds = finite.sum(axis=2)
    with np.errstate(invalid="ignore"):
        bench_means = np.where(n_seeds > 0, np.nansum(values, axis=2) / np.maximum(n_seeds, 1), np.nan)
    has = (n_seeds > 0) & counted[None, :]
    weights = aggregate_weights(has=has, domain_of=domain_of)
    empty = weights.sum(axis=2) == 0  # [n, K]
    scores = np.einsum("nkb,nb->nk", weights, np.nan_to_num(bench_means))
    scores[empty] = np.nan
    ci_low, ci_high = stats.stratified_bootstrap_intervals(values=values, weights=weights)
    iqm = np.full((n, len(KEYS)), np.nan)
    for k in range(len(KEYS)):
        pooled = np.where((weights[:, k, :] > 0)[:, :, None], values, np.nan).reshape(n, n_bench * max_seeds)
        iqm[:, k] = stats.iqm_rows(pooled)
    ci_low[empty] = np.nan
    ci_high[empty] = np.nan
    return ScoreBlock(
        values=values, bench_means=bench_means, n_seeds=n_seeds, weights=weights,
        scores=scores, ci_low=ci_low, ci_high=ci_high, iqm=iqm,
    )
