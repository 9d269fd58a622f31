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


# --- display helpers ------------------------------------------------------------------------------------------


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


# --- a dataset's standings ----------------------------------------------------------------------------------------------


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
