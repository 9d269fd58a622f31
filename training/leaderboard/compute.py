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
filters and efficiency are applied per request by ``training.leaderboard.selectors``. Boards are cached in the
shared cache by ``training.leaderboard.cache`` (per base model, invalidated only by that base model's jobs and
results); after a new result, :func:`board_update` recomputes only the datasets whose jobs changed (a dataset's
numbers depend on its own results only, see ``stats``).
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from django.contrib.postgres.aggregates import ArrayAgg
from django.db import connection

from arena.domains import BENCHMARK_DOMAINS
from training.leaderboard import stats
from training.models import BaseModel, Benchmark, EvalResult, Job

DOMAINS: tuple[str, ...] = BENCHMARK_DOMAINS  # the one vocabulary: arena.domains
KEYS: tuple[str, ...] = ("overall", *DOMAINS)


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
    # per dataset id (None: the reference), the (job id, finished_at) of its succeeded jobs: what changed since
    jobs: dict = field(default_factory=dict)

    def index_of(self) -> dict[int, int]:
        return {int(pk): i for i, pk in enumerate(self.dataset_ids.tolist())}


def job_signatures(*, base_model: BaseModel) -> dict[int | None, tuple]:
    """Per dataset id (None: the base model's own reference runs), its succeeded jobs as sorted
    ``(job id, finished_at)`` pairs: one index-only scan of ``(base_model, status)`` with the included columns."""
    out: dict[int | None, list] = {}
    jobs = Job.objects.filter(base_model_id=base_model.pk, status=Job.Status.SUCCEEDED).order_by()
    for dataset_id, job_id, finished in jobs.values_list("dataset_id", "id", "finished_at"):
        out.setdefault(dataset_id, []).append((job_id, finished))
    return {d: tuple(sorted(v)) for d, v in out.items()}


def _seed_scores(*, base_model: BaseModel, dataset_ids: list[int] | None = None
                 ) -> list[tuple[int | None, int, list[float]]]:
    """(dataset id, benchmark id, scores ordered by seed) of the base model's succeeded jobs (only those of
    ``dataset_ids`` when given).

    PostgreSQL aggregates the seed scores into arrays; other databases (the SQLite demo) group in Python.
    """
    results = EvalResult.objects.filter(job__base_model_id=base_model.pk, job__status=Job.Status.SUCCEEDED).order_by()
    if dataset_ids is not None:
        results = results.filter(job__dataset_id__in=dataset_ids)
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


def board_compute(*, base_model: BaseModel, stamp: tuple = (), jobs: dict | None = None) -> Board:
    """Aggregate the results in SQL per (dataset, benchmark) -- seed scores as an array -- then compute."""
    if jobs is None:
        jobs = job_signatures(base_model=base_model)
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
    # sum_b W[n, k, b] * ref[b]: the reference evaluated on each dataset's own benchmarks
    on_coverage = _reference_on_coverage(datasets=datasets, reference=reference)
    return Board(
        base_model_id=base_model.pk,
        stamp=stamp,
        benchmarks=benchmarks,
        counted=counted,
        dataset_ids=dataset_ids,
        datasets=datasets,
        reference=reference,
        reference_on_coverage=on_coverage,
        jobs=jobs,
    )


def _reference_on_coverage(*, datasets: ScoreBlock, reference: ScoreBlock | None) -> np.ndarray:
    if reference is None:
        return np.full((datasets.scores.shape[0], len(KEYS)), np.nan)
    ref_means = np.nan_to_num(reference.bench_means[0])
    on_coverage = np.einsum("nkb,b->nk", datasets.weights, ref_means)
    on_coverage[datasets.weights.sum(axis=2) == 0] = np.nan
    return on_coverage


def board_update(*, previous: Board, base_model: BaseModel, stamp: tuple = ()) -> Board:
    """The board after some datasets' jobs changed: only those datasets are read again and recomputed.

    Falls back to :func:`board_compute` when the change reaches every row: the reference runs changed (they
    decide which benchmarks count), or a changed dataset brings a new benchmark or more seeds than the board
    holds. Gives exactly the numbers of a full computation (each dataset's numbers depend on its own results,
    the benchmarks that count and the fixed bootstrap counts only).
    """
    jobs = job_signatures(base_model=base_model)
    if previous.reference is None or jobs.get(None) != previous.jobs.get(None):
        return board_compute(base_model=base_model, stamp=stamp, jobs=jobs)
    changed = sorted(d for d, sig in jobs.items() if d is not None and previous.jobs.get(d) != sig)
    rows = _seed_scores(base_model=base_model, dataset_ids=changed) if changed else []
    col = {b.id: j for j, b in enumerate(previous.benchmarks)}
    n_bench = len(previous.benchmarks)
    if any(b not in col for _, b, _ in rows):
        return board_compute(base_model=base_model, stamp=stamp, jobs=jobs)
    # more seeds than before: pad (the bootstrap counts of k seeds do not depend on the widest k)
    max_seeds = max([previous.datasets.values.shape[2], *(len(scores) for _, _, scores in rows)])
    old_index = previous.index_of()
    with_results = sorted({d for d, _, _ in rows})
    kept = [d for d in old_index if d in jobs and d not in set(changed)]
    dataset_ids = np.array(sorted(kept + with_results), dtype=np.int64)
    row_of = {int(d): i for i, d in enumerate(dataset_ids.tolist())}
    keep_new = [row_of[d] for d in kept]
    keep_old = [old_index[d] for d in kept]
    fresh = np.array([row_of[d] for d in with_results], dtype=int)
    values = np.full((len(with_results), n_bench, max_seeds), np.nan)
    fresh_row = {d: i for i, d in enumerate(with_results)}
    for dataset_id, bench_id, scores in rows:
        values[fresh_row[dataset_id], col[bench_id], : len(scores)] = scores
    domain_of = np.array([DOMAINS.index(b.domain) for b in previous.benchmarks], dtype=int)
    recomputed = _score_block(values=values, counted=previous.counted, domain_of=domain_of)
    old = previous.datasets
    merged = {}
    for name in ("values", "bench_means", "n_seeds", "weights", "scores", "ci_low", "ci_high", "iqm"):
        before, after = getattr(old, name), getattr(recomputed, name)
        if name == "values" and before.shape[2] < max_seeds:
            before = np.pad(before, ((0, 0), (0, 0), (0, max_seeds - before.shape[2])), constant_values=np.nan)
        out = np.empty((len(dataset_ids), *before.shape[1:]), dtype=before.dtype)
        out[keep_new] = before[keep_old]
        out[fresh] = after
        merged[name] = out
    datasets = ScoreBlock(**merged)
    ref_has = np.isfinite(previous.reference.values[0]).any(axis=1)
    if not (ref_has | np.isfinite(datasets.values).any(axis=(0, 2))).all():
        return board_compute(base_model=base_model, stamp=stamp, jobs=jobs)  # a benchmark column emptied
    return Board(
        base_model_id=base_model.pk,
        stamp=stamp,
        benchmarks=previous.benchmarks,
        counted=previous.counted,
        dataset_ids=dataset_ids,
        datasets=datasets,
        reference=previous.reference,
        reference_on_coverage=_reference_on_coverage(datasets=datasets, reference=previous.reference),
        jobs=jobs,
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
