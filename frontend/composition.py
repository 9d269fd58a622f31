"""Cross-app composition for display: the one module that reads several apps at once, with plain imports.

- the dataset page's sections (scores against the visible datasets' medians, standings, lineage, jobs);
- the genealogy view's dataset card (metadata, scores, leaderboard ranks, parents, contamination);
- the comparison of 2-4 datasets (leaderboard numbers plus score distributions and response lengths);
- which scores predict leaderboard value (Spearman correlations between score means and deltas).

Every read is scoped to the viewer through the apps' selectors (``arena.permissions`` underneath). The domain apps
never import this module; pages, Dash callbacks and the composed API endpoints (``frontend/api``) do.
"""
from __future__ import annotations

import statistics
from collections.abc import Sequence

from arena.models import Dataset
from arena.permissions import dataset_visible_queryset
from arena.selectors import dataset_get
from frontend.card_charts import radar, small_multiple
from lineage.reports import contamination_report
from lineage.selectors import current_edges, dataset_summary, edge_as_dict, edge_list
from scoring.models import ScoreAggregate
from scoring.selectors import dataset_score_summary
from training.leaderboard import stats
from training.leaderboard.compute import KEYS
from training.leaderboard.comparison import (
    board_comparison,
    common_histogram,
    compare_datasets,
    dataset_response_lengths,
)
from training.leaderboard.selectors import (
    DEFINITIONS,
    base_model_get,
    dataset_standings,
    leaderboard_base_models,
    leaderboard_get,
)
from training.models import Job
from training.selectors import dataset_jobs_results


# --- the scoring side, read once -----------------------------------------------------------------------------

def dataset_score_summaries(*, dataset: Dataset) -> list[dict]:
    """The dataset's current score aggregates (one per scorer configuration)."""
    return list(dataset_score_summary(dataset=dataset))


SUMMARY_KEYS = ("scorer", "axis", "config_hash", "scope", "higher_is_better", "count", "mean", "median", "p10", "p90",
                "normalised", "histogram", "value")


def _slim_summaries(summaries: list[dict]) -> list[dict]:
    """The fields of the score aggregates the comparison shows (histograms: normalised values, 20 bins on [0, 1])."""
    return [{k: s.get(k) for k in SUMMARY_KEYS} for s in summaries]


def score_medians(*, viewer) -> dict[tuple[str, str], dict]:
    """Per scorer configuration: the median over the visible datasets of their normalised mean, and how many
    datasets that median is over. A dataset card draws its own mean against it."""
    values: dict[tuple[str, str], list[float]] = {}
    rows = (ScoreAggregate.objects.filter(is_current=True, dataset__in=dataset_visible_queryset(viewer=viewer)
                                          .values("pk"), norm_mean__isnull=False)
            .values_list("scorer", "config_hash", "norm_mean"))
    for scorer, config_hash, norm_mean in rows:
        values.setdefault((scorer, config_hash), []).append(norm_mean)
    return {key: {"median": statistics.median(v), "n": len(v)} for key, v in values.items()}


# --- dataset page -------------------------------------------------------------------------------------------

def _lineage_panel(*, parents, children) -> dict:
    def item(edge, other) -> dict:
        return {"dataset": other, "relation": edge.get_relation_display(), "origin": edge.origin,
                "confidence": edge.confidence, "evidence": edge.evidence}

    return {"parents": [item(e, e.parent) for e in parents], "children": [item(e, e.child) for e in children]}


def dataset_card_context(*, request, dataset) -> dict:
    """Template context of the dataset card's sections, everything scoped to ``request.user``."""
    viewer = request.user
    summaries = dataset_score_summaries(dataset=dataset)
    medians = score_medians(viewer=viewer) if summaries else {}
    panels = [
        small_multiple(summary=s, median=medians.get((s["scorer"], s.get("config_hash", ""))))
        for s in summaries if s.get("scope") != "setwise"
    ]
    edges = current_edges(viewer=viewer).select_related("parent", "child")
    parents = list(edges.filter(child=dataset).order_by("origin", "parent__name"))
    children = list(edges.filter(parent=dataset).order_by("origin", "child__name"))
    standings = dataset_standings(viewer=viewer, dataset=dataset)
    return {
        "summaries": summaries,
        "setwise": [s for s in summaries if s.get("scope") == "setwise"],
        "panels": sorted(panels, key=lambda p: (p["axis"], p["scorer"])),
        "radar": radar(summaries=summaries, medians=medians),
        "lineage": _lineage_panel(parents=parents, children=children),
        "has_lineage": bool(parents or children),
        "standings": standings,
        "jobs": dataset_jobs_results(dataset=dataset),
    }


# --- genealogy card -----------------------------------------------------------------------------------------

def dataset_card(*, viewer, slug: str) -> dict:
    """What the genealogy view shows for a clicked dataset: metadata, score summary, leaderboard ranks, parents
    with evidence, contamination."""
    dataset = dataset_get(viewer=viewer, slug=slug)
    parents = [edge_as_dict(e) for e in edge_list(viewer=viewer, dataset=dataset).filter(child=dataset)]
    card = {
        "slug": dataset.slug,
        **dataset_summary(dataset),
        "license": dataset.license,
        "description": dataset.description,
        "created_at": dataset.created_at.isoformat(),
        "parents": parents,
        "contamination": contamination_report(viewer=viewer, dataset=dataset),
        "scores": None,
        "leaderboard": [],
    }
    card["scores"] = dataset_score_summary(dataset=dataset)
    base_models = (
        Job.objects.filter(dataset=dataset, status=Job.Status.SUCCEEDED)
        .values_list("base_model__slug", flat=True)
        .distinct()
    )
    for base_model in sorted(base_models):
        board = leaderboard_get(viewer=viewer, base_model=base_model)
        for row in board.rows:
            if row["dataset"] == dataset.slug:
                card["leaderboard"].append({"base_model": base_model, "rank": row["rank"], "score": row.get("score")})
    return card


# --- comparison and predictors ------------------------------------------------------------------------------

def leaderboard_compare(*, viewer, datasets: Sequence[str], base_model: str = "") -> dict:
    """Side-by-side numbers for 2-4 datasets: per base model their leaderboard rows (same numbers and ranks as
    the leaderboard), per-benchmark means with bootstrap intervals, P(X > Y); plus score distributions per
    scoring axis and response-length histograms."""
    chosen = compare_datasets(viewer=viewer, datasets=datasets)
    if base_model:
        base_models = [base_model_get(slug=base_model)]
    else:
        with_jobs = set(
            Job.objects.filter(dataset__in=chosen, status=Job.Status.SUCCEEDED).values_list("base_model_id", flat=True)
        )
        base_models = [bm for bm in leaderboard_base_models() if bm.pk in with_jobs]
    summaries = {d.slug: _slim_summaries(dataset_score_summaries(dataset=d)) for d in chosen}
    lengths = {d.slug: dataset_response_lengths(dataset=d) for d in chosen}
    return {
        "datasets": [
            {"dataset": d.slug, "name": d.name, "sample_count": d.sample_count, "token_stats": d.token_stats}
            for d in chosen
        ],
        "base_models": [board_comparison(viewer=viewer, base_model=bm, datasets=chosen) for bm in base_models],
        "score_distributions": {
            "available": True,  # kept in the API's shape: scores are always readable (scoring is always installed)
            "note": "",
            "datasets": summaries,
        },
        "response_lengths": {
            "sampled_rows": {slug: int(a.size) for slug, a in lengths.items()},
            **common_histogram(samples=lengths),
        },
        "definitions": DEFINITIONS,
    }


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
        for s in dataset_score_summaries(dataset=dataset):
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
