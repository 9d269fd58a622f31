"""Extra sections of the dataset detail page (scores summary, lineage mini-graph, jobs and results)."""
from __future__ import annotations

from django.template.loader import render_to_string

from lineage.models import LineageEdge
from lineage.selectors import current_edges
from training.leaderboard import selectors

SVG_ROW = 26


def _lineage_svg(*, dataset, parents: list[LineageEdge], children: list[LineageEdge]) -> dict:
    """Coordinates for a small left-to-right SVG: parents -> dataset -> children."""
    height = max(len(parents), len(children), 1) * SVG_ROW + 20
    middle = height / 2

    def column(edges, attr):
        top = middle - len(edges) * SVG_ROW / 2 + SVG_ROW / 2
        return [{"edge": e, "dataset": getattr(e, attr), "y": top + i * SVG_ROW} for i, e in enumerate(edges)]

    return {"height": height, "middle": middle, "parents": column(parents, "parent"),
            "children": column(children, "child")}


def dataset_sections(*, request, dataset) -> list[str]:
    """HTML fragments (already rendered) shown on the dataset detail page, in order."""
    viewer = request.user
    summaries = selectors.dataset_score_summaries(dataset=dataset)
    edges = current_edges(viewer=viewer).select_related("parent", "child")
    parents = list(edges.filter(child=dataset).order_by("parent__name"))
    children = list(edges.filter(parent=dataset).order_by("child__name"))
    context = {
        "dataset": dataset,
        "summaries": summaries,
        "scores_unavailable": selectors.SCORES_UNAVAILABLE if summaries is None else "",
        "lineage": _lineage_svg(dataset=dataset, parents=parents, children=children),
        "has_lineage": bool(parents or children),
        "standings": selectors.dataset_standings(viewer=viewer, dataset=dataset),
        "jobs": selectors.dataset_jobs_results(dataset=dataset),
    }
    return [
        render_to_string("frontend/sections/scores.html", context, request=request),
        render_to_string("frontend/sections/lineage.html", context, request=request),
        render_to_string("frontend/sections/jobs.html", context, request=request),
    ]
