"""From measured sample overlap to proposed lineage edges (pure functions, no database).

For a dataset Y and each dataset Z it overlaps with, let ``s`` be the share of Y's samples
found in Z and ``t`` the share of Z's samples found in Y ("contained" means share >= CONTAINMENT):

* Y is a **subset** of an older Z (edge Z -> Y) when Y is contained in Z (near-identical
  datasets included). A contained dataset that is *older* than its container is not its
  subset: the newer container was built from it, so the older one is one of its sources.
* Otherwise an older Z with ``max(s, t) >= MIN_SHARE`` is a **source** of Y. With two or more
  sources Y is a **mixture** of them; with one, the edge is an unexplained **overlap**.

"Older" means registered earlier (created_at, then id): derived data is registered after its
parents, so every inferred edge points from older to newer and the inferred graph has no cycles.
Confidence is the overlap supporting the edge: ``s`` for a subset, ``max(s, t)`` otherwise.
"""
from __future__ import annotations

from dataclasses import dataclass, field

CONTAINMENT = 0.8
MIN_SHARE = 0.1


@dataclass(frozen=True)
class Neighbour:
    """What dataset Y knows about one overlapping dataset Z."""

    dataset_id: int
    slug: str
    older: bool  # Z was registered before Y
    share_self: float  # share of Y's samples found in Z
    share_other: float  # share of Z's samples found in Y
    matched_self: int = 0
    matched_other: int = 0


@dataclass(frozen=True)
class ProposedEdge:
    parent_id: int
    relation: str
    confidence: float
    evidence: str
    details: dict = field(default_factory=dict)


def _pct(x: float) -> str:
    return f"{100 * x:.1f}%"


def propose_parent_edges(*, slug: str, neighbours: list[Neighbour], threshold: float) -> list[ProposedEdge]:
    """The inferred parent edges of one dataset, from its overlaps with every other dataset."""
    subsets: list[Neighbour] = []
    sources: list[Neighbour] = []
    for z in neighbours:
        if not z.older:
            continue  # edges point from older to newer; Z's own inference handles Y -> Z
        if z.share_self >= CONTAINMENT:
            subsets.append(z)
        elif max(z.share_self, z.share_other) >= MIN_SHARE:
            sources.append(z)
    edges = []
    for z in subsets:
        edges.append(
            ProposedEdge(
                parent_id=z.dataset_id,
                relation="subset",
                confidence=round(min(z.share_self, 1.0), 4),
                evidence=f"{_pct(z.share_self)} of {slug}'s samples near-duplicate samples of {z.slug} "
                f"({_pct(z.share_other)} of {z.slug}'s are in {slug}); MinHash/LSH, Jaccard >= {threshold}",
                details=_details(z, threshold),
            )
        )
    relation = "mixture" if len(sources) >= 2 else "overlap"
    for z in sources:
        edges.append(
            ProposedEdge(
                parent_id=z.dataset_id,
                relation=relation,
                confidence=round(min(max(z.share_self, z.share_other), 1.0), 4),
                evidence=f"{_pct(z.share_self)} of {slug}'s samples near-duplicate samples of {z.slug}, "
                f"{_pct(z.share_other)} of {z.slug}'s are in {slug}"
                + (f"; {slug} draws from {len(sources)} datasets" if relation == "mixture" else "")
                + f"; MinHash/LSH, Jaccard >= {threshold}",
                details=_details(z, threshold) | {"sources": len(sources)},
            )
        )
    return edges


def _details(z: Neighbour, threshold: float) -> dict:
    return {
        "method": "minhash-lsh",
        "jaccard_threshold": threshold,
        "child_share_in_parent": round(z.share_self, 6),
        "parent_share_in_child": round(z.share_other, 6),
        "child_matched": z.matched_self,
        "parent_matched": z.matched_other,
    }
