"""networkx analyses over a lineage graph (edges point parent -> child). Pure functions: the
selectors build the graph from what the viewer may see and call these."""
from __future__ import annotations

from collections.abc import Iterable

import networkx as nx


def build_graph(nodes: Iterable[int], edges: Iterable[tuple[int, int]]) -> nx.DiGraph:
    graph = nx.DiGraph()
    graph.add_nodes_from(nodes)
    graph.add_edges_from(edges)
    return graph


def within_depth(graph: nx.DiGraph, sources: Iterable[int], *, depth: int, direction: str) -> dict[int, int]:
    """Nodes reachable from ``sources`` in at most ``depth`` steps up ("ancestors") or down ("descendants"),
    with their distance; the sources themselves are excluded."""
    if direction not in ("ancestors", "descendants"):
        raise ValueError(f"direction must be ancestors or descendants, got {direction!r}")
    step = graph.predecessors if direction == "ancestors" else graph.successors
    sources = [s for s in sources if s in graph]
    seen = {s: 0 for s in sources}
    frontier = list(sources)
    for distance in range(1, depth + 1):
        nxt = []
        for node in frontier:
            for other in step(node):
                if other not in seen:
                    seen[other] = distance
                    nxt.append(other)
        frontier = nxt
    for s in sources:
        seen.pop(s, None)
    return seen


def common_ancestors(graph: nx.DiGraph, nodes: Iterable[int]) -> set[int]:
    sets = [nx.ancestors(graph, n) for n in nodes if n in graph]
    return set.intersection(*sets) if sets else set()


def roots(graph: nx.DiGraph) -> list[int]:
    return sorted(n for n, degree in graph.in_degree() if degree == 0)


def generation_depth(graph: nx.DiGraph) -> dict[int, int]:
    """Longest chain of derivations from a root to each node (0 for roots). Declared cycles, if any, are
    collapsed into one generation (computed on the condensation)."""
    condensed = nx.condensation(graph)
    depth: dict[int, int] = {}
    for component in nx.topological_sort(condensed):
        preds = list(condensed.predecessors(component))
        depth[component] = 1 + max(depth[p] for p in preds) if preds else 0
    mapping = condensed.graph["mapping"]
    return {node: depth[mapping[node]] for node in graph}


def communities(graph: nx.DiGraph) -> list[list[int]]:
    """Greedy modularity communities of the undirected graph, largest first (isolated nodes are their own)."""
    undirected = graph.to_undirected()
    if undirected.number_of_edges() == 0:
        return [[n] for n in sorted(undirected)]
    found = nx.community.greedy_modularity_communities(undirected)
    return [sorted(c) for c in sorted(found, key=lambda c: (-len(c), min(c)))]


def sibling_pairs(graph: nx.DiGraph) -> list[tuple[int, int, int]]:
    """(parent, child1, child2) for every pair of children sharing a parent, child1 < child2."""
    pairs = []
    for parent in graph:
        children = sorted(graph.successors(parent))
        for i, first in enumerate(children):
            for second in children[i + 1 :]:
                pairs.append((parent, first, second))
    return pairs
