"""Training-side reads behind the comparison of 2-4 datasets: their leaderboard rows and per-benchmark intervals on
one base model, and their response lengths. ``frontend.composition.leaderboard_compare`` adds the scoring side."""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from django.db.models import Exists, OuterRef

from arena.errors import InvalidInput, NotFound
from arena.models import Dataset
from arena.permissions import dataset_visible_queryset
from training.leaderboard import stats
from training.leaderboard.cache import board_get
from training.leaderboard.selectors import MAX_COMPARE, _num, base_model_get, leaderboard_get
from training.models import BaseModel, Job

LENGTH_SAMPLE_ROWS = 5000


def dataset_response_lengths(*, dataset: Dataset, limit: int = LENGTH_SAMPLE_ROWS) -> np.ndarray:
    """Response lengths (tokens) of the first ``limit`` samples, read from the ``response_tokens`` column only."""
    from arena.storage import iter_batches

    if dataset.status != Dataset.Status.READY or not dataset.samples_file:
        return np.zeros(0, dtype=int)
    parts, total = [], 0
    for batch in iter_batches(dataset.samples_file, columns=["response_tokens"], batch_size=min(limit, 5000)):
        arr = batch.column(0).to_numpy(zero_copy_only=False)
        parts.append(arr[: limit - total])
        total += len(parts[-1])
        if total >= limit:
            break
    return np.concatenate(parts).astype(int) if parts else np.zeros(0, dtype=int)


def common_histogram(*, samples: dict[str, np.ndarray], bins: int = 30) -> dict:
    """Histograms of several samples over common bins (so they can be overlaid)."""
    non_empty = [s for s in samples.values() if s.size]
    if not non_empty:
        return {"edges": [], "counts": {k: [] for k in samples}}
    top = max(float(np.percentile(s, 99)) for s in non_empty)
    edges = np.linspace(0.0, max(top, 1.0), bins + 1)
    return {
        "edges": edges.tolist(),
        "counts": {k: np.histogram(np.clip(s, 0, edges[-1]), bins=edges)[0].tolist() for k, s in samples.items()},
    }


def compare_datasets(*, viewer, datasets: Sequence[str]) -> list[Dataset]:
    slugs = list(dict.fromkeys(s.strip() for s in datasets if s and s.strip()))
    if not 2 <= len(slugs) <= MAX_COMPARE:
        raise InvalidInput(f"pick 2 to {MAX_COMPARE} datasets to compare (got {len(slugs)})")
    found = {d.slug: d for d in dataset_visible_queryset(viewer=viewer).filter(slug__in=slugs)}
    missing = [s for s in slugs if s not in found]
    if missing:
        raise NotFound(f"no dataset {missing[0]!r}")
    return [found[s] for s in slugs]


def board_comparison(*, viewer, base_model: BaseModel, datasets: list[Dataset]) -> dict:
    leaderboard = leaderboard_get(viewer=viewer, base_model=base_model.slug)
    rows = {r["dataset"]: r for r in leaderboard.rows}
    board = board_get(base_model=base_model)
    index = board.index_of()
    present = [d for d in datasets if d.pk in index and d.slug in rows]
    values = board.datasets.values[[index[d.pk] for d in present]]
    boot = stats.per_benchmark_bootstrap(values=values)
    with np.errstate(invalid="ignore"):
        lo, hi = stats.percentile_interval(boot) if present else (np.zeros((0, 0)), np.zeros((0, 0)))
    ref = board.reference
    benchmarks = []
    for j, b in enumerate(board.benchmarks):
        entry = {"slug": b.slug, "name": b.name, "domain": b.domain, "counted": bool(board.counted[j]),
                 "reference": _num(ref.bench_means[0, j]) if ref is not None else None, "datasets": {}}
        for i, d in enumerate(present):
            entry["datasets"][d.slug] = {
                "mean": _num(board.datasets.bench_means[index[d.pk], j]),
                "ci_low": _num(lo[i, j]),
                "ci_high": _num(hi[i, j]),
                "n_seeds": int(board.datasets.n_seeds[index[d.pk], j]),
            }
        benchmarks.append(entry)
    counted = np.flatnonzero(board.counted)
    p_better: dict[str, dict[str, float | None]] = {}
    for i, x in enumerate(present):
        p_better[x.slug] = {}
        for k, y in enumerate(present):
            if i != k:
                p_better[x.slug][y.slug] = _num(
                    stats.probability_of_improvement(values[i, counted].tolist(), values[k, counted].tolist())
                )
    return {
        "base_model": leaderboard.base_model,
        "reference": leaderboard.reference,
        "rows": [rows[d.slug] for d in present],
        "missing": [d.slug for d in datasets if d not in present],
        "benchmarks": benchmarks,
        "p_better": p_better,
    }


def compare_dataset_options(*, viewer) -> list[dict]:
    """Datasets the viewer may pick for comparison: visible ones with at least one succeeded job."""
    with_jobs = Job.objects.filter(dataset=OuterRef("pk"), status=Job.Status.SUCCEEDED)
    return [
        {"label": f"{name} ({slug})", "value": slug}
        for slug, name in dataset_visible_queryset(viewer=viewer)
        .filter(Exists(with_jobs))
        .order_by("name")
        .values_list("slug", "name")
    ]


def dataset_benchmark_scores(*, viewer, base_model: str, dataset: str) -> list[dict]:
    """One dataset's per-benchmark means with 95% bootstrap intervals over seeds and the base model's score on
    each (the leaderboard row's expander); NotFound when the viewer may not see the dataset."""
    bm = base_model_get(slug=base_model)
    found = dataset_visible_queryset(viewer=viewer).filter(slug=dataset).first()
    if found is None:
        raise NotFound(f"no dataset {dataset!r}")
    entry = board_comparison(viewer=viewer, base_model=bm, datasets=[found])
    return [
        {"slug": b["slug"], "name": b["name"], "domain": b["domain"], "counted": b["counted"],
         "reference": b["reference"], **b["datasets"].get(found.slug, {})}
        for b in entry["benchmarks"]
    ]
