"""Reads from the lineage graph, always scoped to what the viewer may see."""
from __future__ import annotations

from django.db.models import QuerySet

from lineage.models import LineageEdge


def current_edges(*, viewer) -> QuerySet[LineageEdge]:
    """Current (not superseded) edges whose both ends the viewer may see."""
    from arena.selectors import dataset_visible_queryset

    visible = dataset_visible_queryset(viewer=viewer).values("pk")
    return LineageEdge.objects.filter(superseded_at__isnull=True, child__in=visible, parent__in=visible)


def declared_parents(*, dataset, viewer) -> list[LineageEdge]:
    edges = getattr(dataset, "_prefetched_parent_edges", None)
    if edges is not None:
        return edges
    return list(
        current_edges(viewer=viewer)
        .filter(child=dataset, origin=LineageEdge.Origin.DECLARED)
        .select_related("parent")
    )
