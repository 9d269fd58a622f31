"""Leaderboard reads. Pages, Dash callbacks and the REST API all call these, so they show the same numbers.

Every read is scoped to the viewer: the rows, the ranks (computed among the datasets the viewer may see) and
the correlations only ever use datasets from ``dataset_visible_queryset(viewer=...)``.

Ranks are computed among all visible datasets of the tab before the name/tag/size/year filters, so filtering
hides rows but never changes a dataset's rank. Efficiency is the delta per 1,000 training samples
(``delta / (sample_count / 1000)``).
"""
from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
from django.db.models import Exists, OuterRef
from django.db.models.functions import ExtractYear

from arena.errors import InvalidInput, NotFound
from arena.models import Dataset
from arena.selectors import dataset_visible_queryset
from training.leaderboard import rows as board_rows
from training.leaderboard import stats
from training.leaderboard.cache import board_get
from training.leaderboard.compute import DOMAINS, KEYS, Board
from training.models import BaseModel, Job

DOMAIN_MATCHES = ("any", "exact")
MAX_COMPARE = 4
LENGTH_SAMPLE_ROWS = 5000


@dataclass(frozen=True)
class LeaderboardFilters:
    search: str = ""
    domains: tuple[str, ...] = ()
    domain_match: str = "any"  # any: has at least one of ``domains``; exact: its tags are exactly ``domains``
    size_min: int | None = None
    size_max: int | None = None
    year: int | None = None


@dataclass
class Leaderboard:
    base_model: dict
    domain: str  # "" for the overall view
    benchmarks: list[dict]  # the benchmark columns of this view
    reference: dict | None
    rows: list[dict]
    visible_count: int  # ranked datasets before filters
    definitions: dict = field(default_factory=dict)


DEFINITIONS = {
    "score": "overall: mean of the domain averages; domain view: mean of that domain's benchmark scores; "
    "a benchmark score is the mean over seeds",
    "ci": "95% stratified bootstrap over seeds within each benchmark (2000 resamples, fixed RNG seed)",
    "iqm": "interquartile mean of the per-(benchmark, seed) scores (rliable)",
    "delta": "score minus the base model's own score on the same benchmarks (the base model is a fixed baseline: "
    "the delta interval is the score interval shifted by it; its own seed interval is shown on its row)",
    "efficiency": "delta per 1,000 training samples",
    "rank": "1 + number of datasets whose CI lower bound is above this one's CI upper bound (overlap = tie), among "
    "all datasets you may see on this tab; filters hide rows without re-ranking",
    "coverage": "share of the base model's benchmarks this dataset has results on",
    "p_better": "P(X > Y): mean over benchmarks of the share of seed pairs where X beats Y (ties count half)",
}


def _num(value) -> float | None:
    if value is None:
        return None
    value = float(value)
    return None if math.isnan(value) else value


def leaderboard_base_models() -> list[BaseModel]:
    """Base models with at least one succeeded job (the leaderboard tabs)."""
    succeeded = Job.objects.filter(base_model=OuterRef("pk"), status=Job.Status.SUCCEEDED)
    return list(BaseModel.objects.filter(Exists(succeeded)).order_by("name"))


def base_model_get(*, slug: str) -> BaseModel:
    if not slug:
        raise InvalidInput("base_model is required (the slug of a base model)")
    try:
        return BaseModel.objects.get(slug=slug)
    except BaseModel.DoesNotExist:
        raise NotFound(f"no base model {slug!r}") from None


def _check_domain(domain: str) -> None:
    if domain and domain not in DOMAINS:
        raise InvalidInput(f"unknown domain {domain!r}: use one of {', '.join(DOMAINS)} (or none for overall)")


def _visible_meta(*, viewer, dataset_ids: Sequence[int], base_model_ids: Sequence[int] = ()) -> dict[int, dict]:
    """Name, slug, size, year, owner and domain tags of the visible datasets among ``dataset_ids``.

    With ``base_model_ids`` (the boards the ids come from) the rows are selected by "has a succeeded job on one
    of them" (a semi-join on the job index) instead of a list of 1,000 ids, then kept to ``dataset_ids``."""
    fields = ("id", "slug", "name", "sample_count", "year", "visibility", "owner__username", "source_url")
    wanted = set(dataset_ids)
    visible = dataset_visible_queryset(viewer=viewer).order_by()
    tags = Dataset.domains.through.objects.order_by()
    if base_model_ids:
        on_board = Job.objects.filter(base_model_id__in=list(base_model_ids), status=Job.Status.SUCCEEDED)
        visible = visible.filter(Exists(on_board.filter(dataset=OuterRef("pk"))))
        tags = tags.filter(Exists(on_board.filter(dataset=OuterRef("dataset_id"))))
    else:
        visible = visible.filter(pk__in=list(wanted))
    meta = {
        row[0]: {**dict(zip(fields, row)), "domains": []}
        for row in visible.annotate(year=ExtractYear("created_at")).values_list(*fields)
        if row[0] in wanted
    }
    if not base_model_ids:
        tags = tags.filter(dataset_id__in=list(meta))
    for dataset_id, tag in tags.values_list("dataset_id", "domain__name"):
        if dataset_id in meta:
            meta[dataset_id]["domains"].append(tag)
    for row in meta.values():
        row["domains"].sort()
    return meta


def _matches(row: dict, filters: LeaderboardFilters) -> bool:
    if filters.search:
        needle = filters.search.lower()
        if needle not in row["name"].lower() and needle not in row["dataset"].lower():
            return False
    if filters.domains:
        wanted = set(filters.domains)
        tags = set(row["domains"])
        if filters.domain_match == "exact" and tags != wanted:
            return False
        if filters.domain_match == "any" and not tags & wanted:
            return False
    size = row["sample_count"]
    if filters.size_min is not None and (size is None or size < filters.size_min):
        return False
    if filters.size_max is not None and (size is None or size > filters.size_max):
        return False
    if filters.year is not None and row["year"] != filters.year:
        return False
    return True


def _reference_row(*, board: Board, base_model: BaseModel, k: int, bench_cols: list[int]) -> dict | None:
    ref = board.reference
    if ref is None:
        return None
    counted = [j for j in bench_cols if board.counted[j]]
    return {
        "is_reference": True,
        "dataset": None,
        "name": f"{base_model.name} (base model)",
        "owner": None,
        "visibility": "public",
        "domains": [],
        "sample_count": None,
        "source_url": "",
        "year": None,
        "rank": None,
        "score": _num(ref.scores[0, k]),
        "ci_low": _num(ref.ci_low[0, k]),
        "ci_high": _num(ref.ci_high[0, k]),
        "iqm": _num(ref.iqm[0, k]),
        "delta": 0.0 if not math.isnan(ref.scores[0, k]) else None,
        "delta_ci_low": None,
        "delta_ci_high": None,
        "efficiency": None,
        "n_seeds": int(ref.n_seeds[0, counted].min()) if counted else 0,
        "coverage": 1.0,
        "domain_scores": {d: _num(ref.scores[0, 1 + i]) for i, d in enumerate(DOMAINS)},
        "benchmarks": {board.benchmarks[j].slug: _num(ref.bench_means[0, j]) for j in bench_cols},
    }


def leaderboard_get(
    *, viewer, base_model: str, domain: str = "", filters: LeaderboardFilters | None = None
) -> Leaderboard:
    """The leaderboard of one base model as ``viewer`` may see it: overall view or one domain."""
    _check_domain(domain)
    filters = filters or LeaderboardFilters()
    if filters.domain_match not in DOMAIN_MATCHES:
        raise InvalidInput(f"domain_match must be one of {', '.join(DOMAIN_MATCHES)}")
    bm = base_model_get(slug=base_model)
    board = board_get(base_model=bm)
    meta = _visible_meta(viewer=viewer, dataset_ids=board.dataset_ids.tolist(), base_model_ids=[bm.pk])
    return _leaderboard_view(board=board, bm=bm, meta=meta, domain=domain, filters=filters)


def _leaderboard_view(*, board: Board, bm: BaseModel, meta: dict[int, dict], domain: str,
                      filters: LeaderboardFilters) -> Leaderboard:
    """The board as seen by the viewer whose visible datasets' facts are ``meta`` (keys beyond the board's
    datasets are ignored)."""
    k = KEYS.index(domain or "overall")
    bench_cols = [j for j, b in enumerate(board.benchmarks) if not domain or b.domain == domain]
    block = board.datasets
    index = board.index_of()
    # datasets the viewer may see that have a score in this view
    positions = np.array(sorted(index[d] for d in meta if d in index and not math.isnan(block.scores[index[d], k])),
                         dtype=int)
    scores = block.scores[positions, k]
    lo, hi = block.ci_low[positions, k], block.ci_high[positions, k]
    ranks = stats.rank_with_ties(lo, hi)
    ref_cov = board.reference_on_coverage[positions, k]
    delta = scores - ref_cov
    sizes = np.array(
        [meta[int(board.dataset_ids[p])]["sample_count"] or np.nan for p in positions.tolist()], dtype=float
    )
    eff = board_rows.efficiency(delta=delta, sizes=sizes).tolist()
    heads, tails = board_rows.static_rows(board=board, k=k, bench_cols=tuple(bench_cols))
    rank_list = ranks.tolist()
    rows = []
    for i, p in enumerate(positions.tolist()):
        m = meta[int(board.dataset_ids[p])]
        row = {
            "is_reference": False,
            "dataset": m["slug"],
            "name": m["name"],
            "owner": m["owner__username"],
            "visibility": m["visibility"],
            "domains": m["domains"],
            "sample_count": m["sample_count"],
            "source_url": m["source_url"],
            "year": m["year"],
            "rank": rank_list[i],
            **heads[p],
            "efficiency": _num(eff[i]),
            **tails[p],
        }
        if _matches(row, filters):
            rows.append(row)
    rows.sort(key=lambda r: (r["rank"], -(r["score"] or 0.0), r["dataset"]))
    return Leaderboard(
        base_model={"slug": bm.slug, "name": bm.name, "parameter_count": bm.parameter_count,
                    "label": base_model_label(bm)},
        domain=domain,
        benchmarks=[
            {"slug": board.benchmarks[j].slug, "name": board.benchmarks[j].name,
             "domain": board.benchmarks[j].domain, "counted": bool(board.counted[j])}
            for j in bench_cols
        ],
        reference=_reference_row(board=board, base_model=bm, k=k, bench_cols=bench_cols),
        rows=rows,
        visible_count=len(positions),
        definitions=DEFINITIONS,
    )


def leaderboard_csv_rows(*, leaderboard: Leaderboard) -> list[list]:
    """The leaderboard as CSV rows (header first): reference row first, then the ranked rows."""
    bench = [b["slug"] for b in leaderboard.benchmarks]
    header = [
        "rank", "dataset", "name", "is_reference", "domains", "sample_count", "year", "score", "ci_low", "ci_high",
        "iqm", "delta", "delta_ci_low", "delta_ci_high", "efficiency", "n_seeds", "coverage",
        *[f"domain:{d}" for d in DOMAINS], *[f"benchmark:{s}" for s in bench],
    ]
    out: list[list] = [header]
    for row in ([leaderboard.reference] if leaderboard.reference else []) + leaderboard.rows:
        out.append([
            row["rank"], row["dataset"], row["name"], row["is_reference"], " ".join(row["domains"]),
            row["sample_count"], row["year"], row["score"], row["ci_low"], row["ci_high"], row["iqm"], row["delta"],
            row["delta_ci_low"], row["delta_ci_high"], row["efficiency"], row["n_seeds"], row["coverage"],
            *[row["domain_scores"][d] for d in DOMAINS], *[row["benchmarks"].get(s) for s in bench],
        ])
    return out


# --- other engines' data, read through one adapter each --------------------------------------------------------

SCORES_UNAVAILABLE = "Score aggregates are not available (scoring.selectors.dataset_score_summary is not installed)."


def dataset_score_summaries(*, dataset: Dataset) -> list[dict] | None:
    """The dataset's current score aggregates from the scoring engine; None when that engine is not installed
    (callers show ``SCORES_UNAVAILABLE``; an installed engine that fails raises as usual)."""
    try:
        from scoring.selectors import dataset_score_summary
    except ImportError:
        return None
    return list(dataset_score_summary(dataset=dataset))


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


SUMMARY_KEYS = ("scorer", "axis", "config_hash", "scope", "higher_is_better", "count", "mean", "median", "p10", "p90",
                "normalised", "histogram", "value")


def _slim_summaries(summaries: list[dict] | None) -> list[dict] | None:
    """The fields of the score aggregates the comparison shows (histograms: normalised values, 20 bins on [0, 1])."""
    if summaries is None:
        return None
    return [{k: s.get(k) for k in SUMMARY_KEYS} for s in summaries]


def _histogram(*, samples: dict[str, np.ndarray], bins: int = 30) -> dict:
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


# --- comparison ---------------------------------------------------------------------------------------------------

def _compare_datasets(*, viewer, datasets: Sequence[str]) -> list[Dataset]:
    slugs = list(dict.fromkeys(s.strip() for s in datasets if s and s.strip()))
    if not 2 <= len(slugs) <= MAX_COMPARE:
        raise InvalidInput(f"pick 2 to {MAX_COMPARE} datasets to compare (got {len(slugs)})")
    found = {d.slug: d for d in dataset_visible_queryset(viewer=viewer).filter(slug__in=slugs)}
    missing = [s for s in slugs if s not in found]
    if missing:
        raise NotFound(f"no dataset {missing[0]!r}")
    return [found[s] for s in slugs]


def _board_comparison(*, viewer, base_model: BaseModel, datasets: list[Dataset]) -> dict:
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


def leaderboard_compare(*, viewer, datasets: Sequence[str], base_model: str = "") -> dict:
    """Side-by-side numbers for 2-4 datasets: per base model their leaderboard rows (same numbers and ranks as
    the leaderboard), per-benchmark means with bootstrap intervals, P(X > Y); plus score distributions per
    scoring axis and response-length histograms."""
    chosen = _compare_datasets(viewer=viewer, datasets=datasets)
    if base_model:
        base_models = [base_model_get(slug=base_model)]
    else:
        with_jobs = set(
            Job.objects.filter(dataset__in=chosen, status=Job.Status.SUCCEEDED).values_list("base_model_id", flat=True)
        )
        base_models = [bm for bm in leaderboard_base_models() if bm.pk in with_jobs]
    summaries = {d.slug: _slim_summaries(dataset_score_summaries(dataset=d)) for d in chosen}
    scores_available = all(s is not None for s in summaries.values())
    lengths = {d.slug: dataset_response_lengths(dataset=d) for d in chosen}
    return {
        "datasets": [
            {"dataset": d.slug, "name": d.name, "sample_count": d.sample_count, "token_stats": d.token_stats}
            for d in chosen
        ],
        "base_models": [_board_comparison(viewer=viewer, base_model=bm, datasets=chosen) for bm in base_models],
        "score_distributions": {
            "available": scores_available,
            "note": "" if scores_available else SCORES_UNAVAILABLE,
            "datasets": {slug: s or [] for slug, s in summaries.items()},
        },
        "response_lengths": {
            "sampled_rows": {slug: int(a.size) for slug, a in lengths.items()},
            **_histogram(samples=lengths),
        },
        "definitions": DEFINITIONS,
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


# --- which scores predict value -----------------------------------------------------------------------------------

def score_predictors(*, viewer, base_model: str) -> dict:
    """Spearman correlation (bootstrap 95% CI over datasets) between each scorer axis's dataset mean and the
    leaderboard delta, overall and per domain, over the datasets the viewer may see."""
    bm = base_model_get(slug=base_model)
    boards = {key: leaderboard_get(viewer=viewer, base_model=bm.slug, domain="" if key == "overall" else key)
              for key in KEYS}
    if boards["overall"].reference is None:
        return {"available": False, "note": f"{bm.name} has no reference run (a job with no dataset), so there are "
                "no deltas to correlate with.", "base_model": boards["overall"].base_model, "rows": []}
    slugs = [r["dataset"] for r in boards["overall"].rows]
    datasets = dataset_visible_queryset(viewer=viewer).filter(slug__in=slugs)
    # one predictor per scorer configuration: values of different configurations are not comparable
    means: dict[tuple[str, str, str], dict[str, float]] = {}
    for dataset in datasets:
        summaries = dataset_score_summaries(dataset=dataset)
        if summaries is None:
            return {"available": False, "note": SCORES_UNAVAILABLE, "base_model": boards["overall"].base_model,
                    "rows": []}
        for s in summaries:
            value = s["mean"] if s.get("mean") is not None else s.get("value")  # setwise scorers: their value
            if value is not None:
                key = (s["scorer"], s["axis"], s.get("config_hash", ""))
                means.setdefault(key, {})[dataset.slug] = float(value)
    configs_per_scorer: dict[str, int] = {}
    for scorer, _axis, _config in means:
        configs_per_scorer[scorer] = configs_per_scorer.get(scorer, 0) + 1
    rows = []
    for (scorer, axis, config), by_slug in sorted(means.items()):
        label = scorer if configs_per_scorer[scorer] == 1 else f"{scorer} #{config[:6]}"
        for key, lb in boards.items():
            deltas = {r["dataset"]: r["delta"] for r in lb.rows if r["delta"] is not None}
            shared = sorted(set(by_slug) & set(deltas))
            result = stats.spearman_with_ci([by_slug[s] for s in shared], [deltas[s] for s in shared])
            rows.append({"scorer": label, "axis": axis, "domain": key, **result})
    return {"available": True, "note": "" if rows else "No dataset has both score aggregates and results yet.",
            "base_model": boards["overall"].base_model, "rows": rows}


def compact_count(value: int | None) -> str:
    """135000000 -> "135M", 1500 -> "1.5k": sizes at a glance."""
    if value is None:
        return "–"
    for factor, suffix in ((1e12, "T"), (1e9, "B"), (1e6, "M"), (1e3, "k")):
        if abs(value) >= factor:
            return f"{value / factor:.3g}{suffix}"
    return str(value)


def base_model_label(bm: BaseModel) -> str:
    """The base model's name with its size, e.g. "SmolLM2 135M Instruct · 135M params"."""
    return f"{bm.name} · {compact_count(bm.parameter_count)} params" if bm.parameter_count else bm.name


def dataset_benchmark_scores(*, viewer, base_model: str, dataset: str) -> list[dict]:
    """One dataset's per-benchmark means with 95% bootstrap intervals over seeds and the base model's score on
    each (the leaderboard row's expander); NotFound when the viewer may not see the dataset."""
    bm = base_model_get(slug=base_model)
    found = dataset_visible_queryset(viewer=viewer).filter(slug=dataset).first()
    if found is None:
        raise NotFound(f"no dataset {dataset!r}")
    entry = _board_comparison(viewer=viewer, base_model=bm, datasets=[found])
    return [
        {"slug": b["slug"], "name": b["name"], "domain": b["domain"], "counted": b["counted"],
         "reference": b["reference"], **b["datasets"].get(found.slug, {})}
        for b in entry["benchmarks"]
    ]


def leaderboard_filter_options(*, viewer) -> dict:
    """Choices for the leaderboard controls: base model tabs, domain tags and years of the visible datasets."""
    from arena.models import Domain

    visible = dataset_visible_queryset(viewer=viewer)
    years = sorted({d.year for d in visible.dates("created_at", "year")}, reverse=True)
    return {
        "base_models": [{"label": base_model_label(bm), "value": bm.slug, "parameter_count": bm.parameter_count}
                        for bm in leaderboard_base_models()],
        "tags": list(Domain.objects.order_by("name").values_list("name", flat=True)),
        "years": years,
    }


# --- dataset page ---------------------------------------------------------------------------------------------------

def dataset_jobs_results(*, dataset: Dataset) -> dict:
    """The dataset's jobs (newest first, at most 50) with their per-benchmark scores (two queries)."""
    from training.models import EvalResult

    jobs = list(Job.objects.filter(dataset=dataset).select_related("base_model", "recipe")[:50])
    results = EvalResult.objects.filter(job__in=jobs).select_related("benchmark").order_by("benchmark__domain",
                                                                                         "benchmark__name")
    benchmarks: dict[str, str] = {}
    scores: dict[int, dict[str, float]] = {}
    for r in results:
        benchmarks[r.benchmark.slug] = r.benchmark.name
        scores.setdefault(r.job_id, {})[r.benchmark.slug] = r.score
    return {
        "benchmarks": [{"slug": s, "name": n} for s, n in benchmarks.items()],
        "jobs": [{"job": j, "scores": [scores.get(j.pk, {}).get(s) for s in benchmarks]} for j in jobs],
    }


def dataset_standings(*, viewer, dataset: Dataset) -> list[dict]:
    """The dataset's leaderboard row on every base model it has succeeded jobs on (same numbers as the board)."""
    base_model_ids = set(
        Job.objects.filter(dataset=dataset, status=Job.Status.SUCCEEDED).values_list("base_model_id", flat=True)
    )
    out = []
    boards = [(bm, board_get(base_model=bm)) for bm in leaderboard_base_models() if bm.pk in base_model_ids]
    # one read of the visible datasets' facts for every board (not one per base model)
    ids = sorted({int(d) for _, board in boards for d in board.dataset_ids.tolist()})
    meta = _visible_meta(viewer=viewer, dataset_ids=ids, base_model_ids=[bm.pk for bm, _ in boards]) if boards else {}
    for bm, board in boards:
        lb = _leaderboard_view(board=board, bm=bm, meta=meta, domain="", filters=LeaderboardFilters())
        row = next((r for r in lb.rows if r["dataset"] == dataset.slug), None)
        if row is not None:
            out.append({"base_model": lb.base_model, "row": row, "of": lb.visible_count})
    return out
