"""From measured sample overlap to lineage edges (pure functions, no database).

The input is one *scope* (the datasets one viewer may see): each dataset's size, an optional
declared release date, the pairwise overlap measurements between them and the declared edges.
Registration order is never used. The output is the smallest set of inferred edges that explains
the overlap:

1. **Candidates.** A pair is a candidate when either side has at least ``MIN_SHARE`` of its
   samples in the other and no declared edge joins them (declared edges always stand).
2. **Direction** (``orient``), from evidence only, in this order:
   * declared release dates, when both sides have one and they differ: older is the parent;
   * *near copies* (each side contains the other, e.g. an edited copy): the parent is the
     *original*, the side whose samples other datasets hold verbatim more often (exact MinHash
     matches with common relatives), then the larger side;
   * *containment* (X inside Y, not the reverse): Y is a *mixture* when it is covered by two or
     more non-nested datasets it contains: then X is one of its sources (X -> Y). Otherwise, if X
     sits inside several non-nested containers, X was filtered from the largest and is a source of
     the others (a subset later mixed with new samples). Otherwise Y -> X (X is a subset of Y);
   * *partial overlap*: the side with the larger share of its samples in the other is the child
     (containment asymmetry |A∩B|/|A| vs |A∩B|/|B|; the smaller dataset drew from the larger).
3. **Minimal explanation.** Candidates are accepted strongest first; one is dropped when its
   overlap is already explained by accepted edges: a path parent -> ... -> child, or a common
   ancestor of both (siblings), whose narrowest hop carries at least the pair's shared samples
   (``TOLERANCE`` slack). A final pass removes accepted edges that later ones made redundant
   (transitive reduction weighted by overlap). Edges that would close a cycle are dropped.
4. **Relation.** ``edited`` for near copies; ``mixture`` for a child with two or more parents
   (with the share of the child found in each) or one that holds its parent plus new samples;
   ``subset`` when the child lies inside its single parent; ``overlap`` otherwise.
"""
from __future__ import annotations

import datetime
from collections.abc import Iterable
from dataclasses import dataclass, field

CONTAINMENT = 0.8  # share at or above which one dataset counts as inside another
MIN_SHARE = 0.1  # below this on both sides, overlap is noise: no edge
SYMMETRIC = 0.05  # shares closer than this both ways carry no direction
TOLERANCE = 0.1  # a path explains a pair when its narrowest hop holds >= (1 - TOLERANCE) of the pair's shared samples


@dataclass(frozen=True)
class Node:
    id: int
    slug: str
    size: int
    released: datetime.date | None = None
    tiebreak: str = ""  # a content-derived key (content hash) for the last tie; never registration order


@dataclass(frozen=True)
class Pair:
    """Overlap between datasets ``x`` and ``y``: how many samples of each side match the other side."""

    x: int
    y: int
    x_matched: int
    y_matched: int
    x_exact: int = 0  # of those, matched with identical shingle sets (verbatim copies)
    y_exact: int = 0


@dataclass(frozen=True)
class InferredEdge:
    parent: int
    child: int
    relation: str
    confidence: float
    evidence: str
    details: dict = field(default_factory=dict)


class _Overlaps:
    def __init__(self, nodes: dict[int, Node], pairs: Iterable[Pair]):
        self.nodes = nodes
        self.matched: dict[tuple[int, int], int] = {}
        self.exact: dict[tuple[int, int], int] = {}
        self.neighbours: dict[int, set[int]] = {n: set() for n in nodes}
        for p in pairs:
            if p.x not in nodes or p.y not in nodes or p.x == p.y:
                continue
            self.matched[(p.x, p.y)], self.matched[(p.y, p.x)] = p.x_matched, p.y_matched
            self.exact[(p.x, p.y)], self.exact[(p.y, p.x)] = p.x_exact, p.y_exact
            self.neighbours[p.x].add(p.y)
            self.neighbours[p.y].add(p.x)

    def share(self, x: int, y: int) -> float:
        """Share of ``x``'s samples found in ``y``."""
        size = self.nodes[x].size
        return min(self.matched.get((x, y), 0) / size, 1.0) if size else 0.0

    def shared(self, x: int, y: int) -> int:
        """Estimated |x ∩ y| in samples."""
        return min(self.matched.get((x, y), 0), self.matched.get((y, x), 0)) or max(
            self.matched.get((x, y), 0), self.matched.get((y, x), 0)
        )

    def inside(self, x: int, y: int) -> bool:
        return self.share(x, y) >= CONTAINMENT

    def near(self, x: int, y: int) -> bool:
        return self.inside(x, y) and self.inside(y, x)


def _size_key(node: Node) -> tuple:
    return (node.size, node.tiebreak, node.slug)


def _original(ov: _Overlaps, x: int, y: int) -> tuple[int, str]:
    """The original of two datasets that overlap symmetrically (near copies, or equal shares both ways):
    more verbatim matches with common relatives, then the larger, then a content-hash tie-break."""
    common = (ov.neighbours[x] & ov.neighbours[y]) - {x, y}
    verbatim_x = sum(ov.exact.get((z, x), 0) for z in common)
    verbatim_y = sum(ov.exact.get((z, y), 0) for z in common)
    if verbatim_x != verbatim_y:
        return (x if verbatim_x > verbatim_y else y), "verbatim matches with common relatives"
    if ov.nodes[x].size != ov.nodes[y].size:
        return max((x, y), key=lambda n: ov.nodes[n].size), "symmetric overlap; the larger is the original"
    return max((x, y), key=lambda n: _size_key(ov.nodes[n])), "symmetric overlap, equal sizes; content-hash tie-break"


def _mixtures(ov: _Overlaps) -> dict[int, list[int]]:
    """Datasets covered (>= CONTAINMENT) by two or more non-nested datasets they contain: {mixture: sources}."""
    out: dict[int, list[int]] = {}
    for y in ov.nodes:
        inner = [x for x in ov.neighbours[y] if ov.inside(x, y) and not ov.inside(y, x)]
        maximal: list[int] = []
        for x in sorted(inner, key=lambda n: -ov.nodes[n].size):
            if any(ov.inside(x, m) for m in maximal):
                continue  # nested in (or a near copy of) a larger source already counted
            maximal.append(x)
        if len(maximal) < 2:
            continue
        covered = sum(ov.share(y, x) * ov.nodes[y].size for x in maximal)
        covered -= sum(ov.shared(a, b) for i, a in enumerate(maximal) for b in maximal[i + 1 :])
        if ov.nodes[y].size and covered / ov.nodes[y].size >= CONTAINMENT:
            out[y] = maximal
    return out


def orient(ov: _Overlaps, x: int, y: int, mixtures: dict[int, list[int]]) -> tuple[int, int, str]:
    """(parent, child, basis) of a candidate pair."""
    nx_, ny = ov.nodes[x], ov.nodes[y]
    if nx_.released and ny.released and nx_.released != ny.released:
        return (x, y, "declared release dates") if nx_.released < ny.released else (y, x, "declared release dates")
    if ov.near(x, y):
        parent, basis = _original(ov, x, y)
        return parent, (y if parent == x else x), basis
    if ov.inside(x, y) or ov.inside(y, x):
        small, big = (x, y) if ov.inside(x, y) else (y, x)
        if big in mixtures:
            return small, big, f"{ov.nodes[big].slug} is covered by {len(mixtures[big])} datasets it contains (a mixture)"
        containers = [c for c in ov.neighbours[small] if ov.inside(small, c) and not ov.inside(c, small) and c not in mixtures]
        minimal = [c for c in containers if not any(o != c and ov.inside(o, c) and not ov.inside(c, o) for o in containers)]
        groups: list[int] = []  # one representative per set of near copies
        for c in sorted(minimal, key=lambda n: (-ov.share(small, n), -ov.nodes[n].size, ov.nodes[n].slug)):
            if not any(ov.near(c, g) for g in groups):
                groups.append(c)
        if len(groups) >= 2:
            source = max(groups, key=lambda n: _size_key(ov.nodes[n]))
            anchor = big if big in groups else next((g for g in groups if ov.inside(g, big)), source)
            if anchor != source:
                return small, big, (
                    f"{ov.nodes[small].slug} lies inside {len(groups)} unrelated datasets: filtered from the largest "
                    f"({ov.nodes[source].slug}), then mixed into the others"
                )
        return big, small, f"{ov.nodes[small].slug} lies inside {ov.nodes[big].slug}"
    if abs(ov.share(x, y) - ov.share(y, x)) >= SYMMETRIC:
        child = x if ov.share(x, y) > ov.share(y, x) else y
        return (y if child == x else x), child, "containment asymmetry (the child has the larger share in the other)"
    parent, basis = _original(ov, x, y)
    return parent, (y if parent == x else x), basis


class _Graph:
    """Accepted edges with their shared-sample counts (declared edges without a measurement carry infinity)."""

    def __init__(self) -> None:
        self.out: dict[int, dict[int, float]] = {}
        self.inn: dict[int, dict[int, float]] = {}

    def add(self, parent: int, child: int, width: float) -> None:
        self.out.setdefault(parent, {})[child] = width
        self.inn.setdefault(child, {})[parent] = width

    def remove(self, parent: int, child: int) -> None:
        self.out.get(parent, {}).pop(child, None)
        self.inn.get(child, {}).pop(parent, None)

    def _widest(self, start: int, *, upward: bool) -> dict[int, float]:
        """Widest-path (max over paths of the narrowest hop) from ``start`` to every reachable node."""
        best = {start: float("inf")}
        stack = [start]
        while stack:
            node = stack.pop()
            for other, width in (self.inn if upward else self.out).get(node, {}).items():
                value = min(best[node], width)
                if value > best.get(other, -1.0):
                    best[other] = value
                    stack.append(other)
        return best

    def reaches(self, parent: int, child: int) -> bool:
        return child in self._widest(parent, upward=False)

    def explains(self, parent: int, child: int, needed: float) -> bool:
        """A path parent ~> child, or a common ancestor of both, whose narrowest hop carries ``needed``."""
        down = self._widest(parent, upward=False)
        if down.get(child, -1.0) >= needed:
            return True
        above_parent = self._widest(parent, upward=True)
        above_child = self._widest(child, upward=True)
        return any(
            a not in (parent, child) and above_parent[a] >= needed and above_child[a] >= needed
            for a in above_parent.keys() & above_child.keys()
        )


def infer_edges(
    *, nodes: dict[int, Node], pairs: Iterable[Pair], declared: Iterable[tuple[int, int]], threshold: float
) -> list[InferredEdge]:
    """The inferred edges of one scope (see the module docstring)."""
    ov = _Overlaps(nodes, pairs)
    declared = [(p, c) for p, c in declared if p in nodes and c in nodes]
    declared_pairs = {frozenset(e) for e in declared}
    graph = _Graph()
    for parent, child in declared:
        graph.add(parent, child, float(ov.shared(parent, child) or float("inf")))
    mixtures = _mixtures(ov)
    candidates = []
    for x in sorted(ov.nodes):
        for y in sorted(ov.neighbours[x]):
            if y <= x or frozenset((x, y)) in declared_pairs:
                continue
            if max(ov.share(x, y), ov.share(y, x)) < MIN_SHARE:
                continue
            parent, child, basis = orient(ov, x, y, mixtures)
            strength = max(ov.share(x, y), ov.share(y, x))
            candidates.append((strength, ov.shared(x, y), parent, child, basis))
    candidates.sort(key=lambda c: (-c[0], -c[1], nodes[c[2]].slug, nodes[c[3]].slug))
    accepted: dict[tuple[int, int], tuple[float, int, str]] = {}
    for strength, shared, parent, child, basis in candidates:
        needed = shared * (1 - TOLERANCE)
        if graph.reaches(child, parent) or graph.explains(parent, child, needed):
            continue
        graph.add(parent, child, float(shared))
        accepted[(parent, child)] = (strength, shared, basis)
    for (parent, child), (strength, shared, _) in sorted(accepted.items(), key=lambda kv: (kv[1][0], kv[1][1])):
        graph.remove(parent, child)
        if graph.explains(parent, child, shared * (1 - TOLERANCE)):
            del accepted[(parent, child)]
        else:
            graph.add(parent, child, float(shared))
    return _with_relations(ov, accepted, declared=declared, threshold=threshold)


def _pct(x: float) -> str:
    return f"{100 * x:.1f}%"


def _with_relations(
    ov: _Overlaps, accepted: dict[tuple[int, int], tuple[float, int, str]], *, declared, threshold: float
) -> list[InferredEdge]:
    parents_of: dict[int, list[int]] = {}
    for parent, child in sorted(accepted):
        parents_of.setdefault(child, []).append(parent)
    declared_parents: dict[int, int] = {}
    for _, child in declared:
        declared_parents[child] = declared_parents.get(child, 0) + 1
    edges = []
    for child, parents in sorted(parents_of.items()):
        c = ov.nodes[child]
        shares = {ov.nodes[p].slug: round(ov.share(child, p), 6) for p in parents}
        covered = _covered(ov, child, parents)
        n_sources = len(parents) + declared_parents.get(child, 0)
        for parent in parents:
            p = ov.nodes[parent]
            strength, shared, basis = accepted[(parent, child)]
            if ov.near(parent, child):
                relation = "edited"
            elif n_sources >= 2 or ov.inside(parent, child):
                relation = "mixture"
            elif ov.inside(child, parent):
                relation = "subset"
            else:
                relation = "overlap"
            evidence = (
                f"{_pct(ov.share(child, parent))} of {c.slug}'s samples near-duplicate samples of {p.slug} "
                f"({_pct(ov.share(parent, child))} of {p.slug}'s are in {c.slug}); direction: {basis}"
            )
            if relation == "mixture":
                evidence += f"; {c.slug} draws from {n_sources} source(s) here, covering {_pct(covered)} of its samples"
            evidence += f"; MinHash/LSH, Jaccard >= {threshold}"
            edges.append(
                InferredEdge(
                    parent=parent,
                    child=child,
                    relation=relation,
                    confidence=round(min(strength, 1.0), 4),
                    evidence=evidence,
                    details={
                        "method": "minhash-lsh",
                        "jaccard_threshold": threshold,
                        "child_share_in_parent": round(ov.share(child, parent), 6),
                        "parent_share_in_child": round(ov.share(parent, child), 6),
                        "child_matched": ov.matched.get((child, parent), 0),
                        "parent_matched": ov.matched.get((parent, child), 0),
                        "shared_samples": shared,
                        "direction_basis": basis,
                        "sources": n_sources,
                        "source_shares": shares,
                        "covered_by_sources": round(covered, 6),
                    },
                )
            )
    return edges


def _covered(ov: _Overlaps, child: int, parents: list[int]) -> float:
    """Share of the child's samples found in at least one parent (pairwise inclusion-exclusion estimate)."""
    size = ov.nodes[child].size
    if not size:
        return 0.0
    total = sum(ov.share(child, p) * size for p in parents)
    total -= sum(min(ov.shared(a, b), ov.share(child, a) * size, ov.share(child, b) * size)
                 for i, a in enumerate(parents) for b in parents[i + 1 :])
    return max(0.0, min(total / size, 1.0))
