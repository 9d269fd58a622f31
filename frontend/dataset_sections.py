"""The dataset card's sections beyond the metadata (scores, standing, lineage, jobs): what each one shows,
composed from the scoring, lineage and training reads for the viewer."""
from __future__ import annotations

from lineage.selectors import current_edges
from training.leaderboard import selectors

from frontend.card_charts import radar, small_multiple
from frontend.selectors import score_medians


def _lineage_panel(*, parents, children) -> dict:
    def item(edge, other) -> dict:
        return {"dataset": other, "relation": edge.get_relation_display(), "origin": edge.origin,
                "confidence": edge.confidence, "evidence": edge.evidence}

    return {"parents": [item(e, e.parent) for e in parents], "children": [item(e, e.child) for e in children]}


def dataset_card_context(*, request, dataset) -> dict:
    """Template context of the dataset card's sections, everything scoped to ``request.user``."""
    viewer = request.user
    summaries = selectors.dataset_score_summaries(dataset=dataset)
    medians = score_medians(viewer=viewer) if summaries else {}
    panels = [
        small_multiple(summary=s, median=medians.get((s["scorer"], s.get("config_hash", ""))))
        for s in summaries or [] if s.get("scope") != "setwise"
    ]
    edges = current_edges(viewer=viewer).select_related("parent", "child")
    parents = list(edges.filter(child=dataset).order_by("origin", "parent__name"))
    children = list(edges.filter(parent=dataset).order_by("origin", "child__name"))
    standings = selectors.dataset_standings(viewer=viewer, dataset=dataset)
    return {
        "summaries": summaries,
        "setwise": [s for s in summaries or [] if s.get("scope") == "setwise"],
        "panels": sorted(panels, key=lambda p: (p["axis"], p["scorer"])),
        "radar": radar(summaries=summaries or [], medians=medians),
        "scores_unavailable": selectors.SCORES_UNAVAILABLE if summaries is None else "",
        "lineage": _lineage_panel(parents=parents, children=children),
        "has_lineage": bool(parents or children),
        "standings": standings,
        "jobs": selectors.dataset_jobs_results(dataset=dataset),
    }
