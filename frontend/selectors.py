"""Reads the frontend composes for display across apps (the dataset card), scoped to the viewer."""
from __future__ import annotations

import statistics

from arena.selectors import dataset_visible_queryset


def score_medians(*, viewer) -> dict[tuple[str, str], dict]:
    """Per scorer configuration: the median over the visible datasets of their normalised mean, and how many
    datasets that median is over. A dataset card draws its own mean against it."""
    try:
        from scoring.models import ScoreAggregate
    except ImportError:  # the scoring engine is not installed
        return {}
    values: dict[tuple[str, str], list[float]] = {}
    rows = (ScoreAggregate.objects.filter(is_current=True, dataset__in=dataset_visible_queryset(viewer=viewer)
                                          .values("pk"), norm_mean__isnull=False)
            .values_list("scorer", "config_hash", "norm_mean"))
    for scorer, config_hash, norm_mean in rows:
        values.setdefault((scorer, config_hash), []).append(norm_mean)
    return {key: {"median": statistics.median(v), "n": len(v)} for key, v in values.items()}
