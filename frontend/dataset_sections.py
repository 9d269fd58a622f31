"""Extra sections of the dataset detail page (scores summary, lineage mini-graph, jobs and results)."""
from __future__ import annotations


def dataset_sections(*, request, dataset) -> list[str]:
    """HTML fragments (already rendered) shown on the dataset detail page, in order."""
    return []
