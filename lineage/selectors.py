"""Reads from the lineage graph, always scoped to what the viewer may see."""
from __future__ import annotations

from collections.abc import Iterable, Sequence

from django.db.models import Q, QuerySet

from arena.errors import InvalidInput, NotFound
from arena.selectors import dataset_get, dataset_visible_queryset
from lineage import graph as g
from lineage.models import ContaminationFinding, ContaminationHit, DatasetOverlap, DatasetSignature, LineageEdge, ScopeOverride


def _in_scope(*, viewer) -> Q:
    """The edges meant for this viewer: declared ones, inferred ones of the public scope, and, for a logged-in
    user, those of their own scope, which replace the public ones for the children listed in ScopeOverride.
    Another user's scope is never read: its edges depend on that user's private datasets."""
    declared = Q(origin=LineageEdge.Origin.DECLARED)
    if viewer is None or not viewer.is_authenticated:
        return declared | Q(origin=LineageEdge.Origin.INFERRED, scope__isnull=True)
    overridden = ScopeOverride.objects.filter(owner=viewer).values("dataset_id")
    return (
        declared
        | Q(origin=LineageEdge.Origin.INFERRED, scope=viewer)
        | (Q(origin=LineageEdge.Origin.INFERRED, scope__isnull=True) & ~Q(child__in=overridden))
    )


def current_edges(*, viewer) -> QuerySet[LineageEdge]:
    """Current (not superseded) edges meant for the viewer whose both ends the viewer may see."""
    visible = dataset_visible_queryset(viewer=viewer).values("pk")
    return LineageEdge.objects.filter(_in_scope(viewer=viewer), superseded_at__isnull=True, child__in=visible, parent__in=visible)


def declared_parents(*, dataset, viewer) -> list[LineageEdge]:
    edges = getattr(dataset, "_prefetched_parent_edges", None)
    if edges is not None:
        return edges
    return list(
        current_edges(viewer=viewer)
        .filter(child=dataset, origin=LineageEdge.Origin.DECLARED)
        .select_related("parent")
    )


# --- Edge listing -------------------------------------------------------------------------------

MAX_DEPTH = 10
MAX_GRAPH_NODES = 5000
MAX_TARGETS = 50
MAX_SIBLING_PAIRS = 500


def edge_list(
    *, viewer, dataset=None, relation: str = "", origin: str = "", include_history: bool = False
) -> QuerySet[LineageEdge]:
    """Edges the viewer may see (both ends visible), newest first; ``include_history`` adds superseded ones."""
    if relation and relation not in LineageEdge.Relation.values:
        raise InvalidInput(f"unknown relation {relation!r}; expected one of {', '.join(LineageEdge.Relation.values)}")
    if origin and origin not in LineageEdge.Origin.values:
        raise InvalidInput(f"unknown origin {origin!r}; expected declared or inferred")
    if not include_history:
        qs = current_edges(viewer=viewer)
    else:
        visible = dataset_visible_queryset(viewer=viewer).values("pk")
        own_scope = Q(scope__isnull=True) if viewer is None or not viewer.is_authenticated else Q(scope__isnull=True) | Q(scope=viewer)
        qs = LineageEdge.objects.filter(own_scope, child__in=visible, parent__in=visible)
    if dataset is not None:
        qs = qs.filter(Q(child=dataset) | Q(parent=dataset))
    if relation:
        qs = qs.filter(relation=relation)
    if origin:
        qs = qs.filter(origin=origin)
    return qs.select_related("child", "parent", "created_by")


def _dataset_summary(dataset) -> dict:
    """The fields a graph node and a node card both show about a dataset."""
    return {
        "name": dataset.name,
        "owner": dataset.owner.username,
        "visibility": dataset.visibility,
        "status": dataset.status,
        "sample_count": dataset.sample_count,
        "domains": sorted(d.name for d in dataset.domains.all()),
    }


def edge_as_dict(edge: LineageEdge) -> dict:
    return {
        "id": edge.pk,
        "parent": edge.parent.slug,
        "child": edge.child.slug,
        "relation": edge.relation,
        "origin": edge.origin,
        "confidence": edge.confidence,
        "evidence": edge.evidence,
        "details": edge.details,
        "created_by": edge.created_by.username if edge.created_by_id else None,
        "created_at": edge.created_at.isoformat(),
        "superseded_at": edge.superseded_at.isoformat() if edge.superseded_at else None,
    }


# --- Subgraphs ----------------------------------------------------------------------------------


def _check_request(*, slugs: Sequence[str], depth) -> int:

    if not slugs:
        raise InvalidInput("name at least one dataset")
    if len(slugs) > MAX_TARGETS:
        raise InvalidInput(f"at most {MAX_TARGETS} target datasets at once, got {len(slugs)}")
    try:
        depth = int(depth)
    except (TypeError, ValueError):
        raise InvalidInput(f"depth must be an integer, got {depth!r}") from None
    if not 0 <= depth <= MAX_DEPTH:
        raise InvalidInput(f"depth must be between 0 and {MAX_DEPTH}, got {depth}")
    return depth


def targets_get(*, viewer, slugs: Sequence[str]) -> list:
    """The named datasets, each visible to the viewer (NotFound otherwise), in the given order, de-duplicated."""
    return [dataset_get(viewer=viewer, slug=slug) for slug in dict.fromkeys(s.strip() for s in slugs if s.strip())]


def _walk(*, viewer, start: set[int], depth: int, upward: bool) -> dict[int, int]:
    """Level-by-level SQL walk over current visible edges: {dataset id: distance} (start excluded)."""
    seen: dict[int, int] = {pk: 0 for pk in start}
    frontier = set(start)
    edges = current_edges(viewer=viewer)
    for distance in range(1, depth + 1):
        if not frontier:
            break
        if upward:
            found = set(edges.filter(child__in=frontier).values_list("parent_id", flat=True))
        else:
            found = set(edges.filter(parent__in=frontier).values_list("child_id", flat=True))
        frontier = found - set(seen)
        for pk in frontier:
            seen[pk] = distance
        if len(seen) > MAX_GRAPH_NODES:
            raise InvalidInput(f"the lineage graph exceeds {MAX_GRAPH_NODES} datasets at depth {distance}; ask for less depth")
    for pk in start:
        seen.pop(pk)
    return seen


def _contaminated_ids(*, viewer) -> dict[int, list[dict]]:
    """Visible datasets with a finished scan that found contamination: {id: [latest finding per benchmark]}."""
    latest: dict[tuple[int, int], ContaminationFinding] = {}
    findings = (
        ContaminationFinding.objects.filter(
            status=ContaminationFinding.Status.DONE, dataset__in=dataset_visible_queryset(viewer=viewer).values("pk")
        )
        .select_related("benchmark")
        .order_by("dataset_id", "benchmark_id", "-created_at", "-id")
    )
    for finding in findings:
        latest.setdefault((finding.dataset_id, finding.benchmark_id), finding)
    out: dict[int, list[dict]] = {}
    for (dataset_id, _), finding in latest.items():
        if finding.items_contaminated > 0:
            out.setdefault(dataset_id, []).append(
                {
                    "benchmark": finding.benchmark.slug,
                    "items_contaminated": finding.items_contaminated,
                    "items_total": finding.items_total,
                    "ratio": finding.ratio,
                    "ngram_size": finding.ngram_size,
                }
            )
    return out


def inherited_contamination(*, viewer, contaminated: Iterable[int]) -> dict[int, set[int]]:
    """{descendant id: ids of contaminated ancestors} over the viewer's visible graph (any depth)."""
    inherited: dict[int, set[int]] = {}
    for source in contaminated:
        for descendant in _walk(viewer=viewer, start={source}, depth=MAX_DEPTH * 5, upward=False):
            inherited.setdefault(descendant, set()).add(source)
    return inherited


def lineage_graph(*, viewer, slugs: Sequence[str], depth=2) -> dict:
    """Ancestors and descendants of the targets up to ``depth``, as nodes and edges the viewer may see.

    Node roles: ``target`` (asked for), ``root`` (no visible parent), ``intermediate`` (anything else).
    Nodes carry direct contamination findings and ``inherits_contamination_from`` (contaminated ancestors).
    """
    depth = _check_request(slugs=slugs, depth=depth)
    targets = targets_get(viewer=viewer, slugs=slugs)
    target_ids = {t.pk for t in targets}
    up = _walk(viewer=viewer, start=target_ids, depth=depth, upward=True)
    down = _walk(viewer=viewer, start=target_ids, depth=depth, upward=False)
    node_ids = target_ids | set(up) | set(down)
    datasets = {
        d.pk: d
        for d in dataset_visible_queryset(viewer=viewer)
        .filter(pk__in=node_ids)
        .select_related("owner")
        .prefetch_related("domains")
    }
    edges = list(
        current_edges(viewer=viewer).filter(child__in=node_ids, parent__in=node_ids).select_related("child", "parent", "created_by")
    )
    with_parents = set(current_edges(viewer=viewer).filter(child__in=node_ids).values_list("child_id", flat=True))
    contaminated = _contaminated_ids(viewer=viewer)
    inherited = inherited_contamination(viewer=viewer, contaminated=contaminated)
    sources = set().union(*inherited.values()) if inherited else set()
    slug_of = dict(dataset_visible_queryset(viewer=viewer).filter(pk__in=sources).values_list("pk", "slug"))
    nodes = []
    for pk, dataset in datasets.items():
        role = "target" if pk in target_ids else ("root" if pk not in with_parents else "intermediate")
        nodes.append(
            {
                "id": dataset.slug,
                **_dataset_summary(dataset),
                "role": role,
                "distance": 0 if pk in target_ids else min(up.get(pk, MAX_DEPTH + 1), down.get(pk, MAX_DEPTH + 1)),
                "direction": "target" if pk in target_ids else ("ancestor" if pk in up else "descendant"),
                "contamination": contaminated.get(pk, []),
                "inherits_contamination_from": sorted(slug_of[s] for s in inherited.get(pk, set()) if s in slug_of),
            }
        )
    nodes.sort(key=lambda n: (n["distance"], n["id"]))
    return {
        "targets": [t.slug for t in targets],
        "depth": depth,
        "nodes": nodes,
        "edges": [edge_as_dict(e) for e in edges],
    }


# --- Analyses -----------------------------------------------------------------------------------


def visible_graph(*, viewer):
    """The viewer's whole current lineage graph (dataset ids; parent -> child), for global analyses."""
    rows = current_edges(viewer=viewer).values_list("parent_id", "child_id").distinct()
    edges = list(rows)
    return g.build_graph({n for e in edges for n in e}, edges)


def lineage_analysis(*, viewer, slugs: Sequence[str], depth=2) -> dict:
    """networkx analyses, all over the viewer's visible graph: the targets' ancestors/descendants to
    ``depth``, their common ancestors, roots, generation depth, sibling redundancy and communities."""
    depth = _check_request(slugs=slugs, depth=depth)
    targets = targets_get(viewer=viewer, slugs=slugs)
    G = visible_graph(viewer=viewer)
    ids = [t.pk for t in targets]
    ancestors = g.within_depth(G, ids, depth=depth, direction="ancestors")
    descendants = g.within_depth(G, ids, depth=depth, direction="descendants")
    common = g.common_ancestors(G, ids) if len(ids) > 1 else set()
    component_nodes = set(ids) | set(ancestors) | set(descendants)
    generations = g.generation_depth(G) if G.number_of_nodes() else {}
    communities = g.communities(G)
    slug_of = dict(dataset_visible_queryset(viewer=viewer).filter(pk__in=set(G) | set(ids)).values_list("pk", "slug"))

    siblings = [p for p in g.sibling_pairs(G.subgraph(component_nodes)) if p[1] < p[2]]
    redundancy_total = len(siblings)
    siblings = siblings[:MAX_SIBLING_PAIRS]
    overlaps = {}
    if siblings:
        wanted = Q()
        for _, first, second in siblings:
            wanted |= Q(a_id=first, b_id=second)
        overlaps = {(o.a_id, o.b_id): o for o in DatasetOverlap.objects.filter(wanted)}
    redundancy = []
    for parent, first, second in siblings:
        row = overlaps.get((first, second))
        redundancy.append(
            {
                "parent": slug_of[parent],
                "siblings": [slug_of[first], slug_of[second]],
                "shared_share": None if row is None else {slug_of[first]: row.a_in_b, slug_of[second]: row.b_in_a},
                "measured": row is not None,
            }
        )
    return {
        "targets": [t.slug for t in targets],
        "depth": depth,
        "ancestors": {slug_of[n]: d for n, d in sorted(ancestors.items(), key=lambda x: (x[1], x[0]))},
        "descendants": {slug_of[n]: d for n, d in sorted(descendants.items(), key=lambda x: (x[1], x[0]))},
        "common_ancestors": sorted(slug_of[n] for n in common),
        "roots": sorted(slug_of[n] for n in g.roots(G) if n in component_nodes),
        "generation_depth": {slug_of[n]: generations.get(n, 0) for n in sorted(component_nodes)},
        "redundancy": redundancy,
        "redundancy_pairs_total": redundancy_total,  # more than MAX_SIBLING_PAIRS: only the first are listed
        "communities": [[slug_of[n] for n in c] for c in communities if set(c) & component_nodes],
    }


# --- Overlap and contamination reports ----------------------------------------------------------


def overlap_report(*, viewer, dataset) -> dict:
    """The dataset's measured sample overlap with every dataset the viewer may see, largest first."""
    signature = DatasetSignature.objects.filter(dataset=dataset).first()
    visible = dataset_visible_queryset(viewer=viewer)
    rows = DatasetOverlap.objects.filter(
        Q(a=dataset, b__in=visible.values("pk")) | Q(b=dataset, a__in=visible.values("pk"))
    ).select_related("a", "b")
    overlaps = []
    for row in rows:
        mine_is_a = row.a_id == dataset.pk
        other = row.b if mine_is_a else row.a
        overlaps.append(
            {
                "dataset": other.slug,
                "share_of_this_in_other": row.a_in_b if mine_is_a else row.b_in_a,
                "share_of_other_in_this": row.b_in_a if mine_is_a else row.a_in_b,
                "matched_here": row.a_matched if mine_is_a else row.b_matched,
                "matched_there": row.b_matched if mine_is_a else row.a_matched,
                "candidate_pairs": row.candidate_pairs,
                "computed_at": row.computed_at.isoformat(),
            }
        )
    overlaps.sort(key=lambda o: (-max(o["share_of_this_in_other"], o["share_of_other_in_this"]), o["dataset"]))
    return {
        "dataset": dataset.slug,
        "index": None
        if signature is None
        else {
            "status": signature.status,
            "error": signature.error,
            "params": signature.params,
            "indexed_at": signature.indexed_at.isoformat() if signature.indexed_at else None,
        },
        "overlaps": overlaps,
    }


def finding_as_dict(finding) -> dict:
    return {
        "id": finding.pk,
        "dataset": finding.dataset.slug,
        "benchmark": finding.benchmark.slug,
        "status": finding.status,
        "error": finding.error,
        "ngram_size": finding.ngram_size,
        "items_total": finding.items_total,
        "items_contaminated": finding.items_contaminated,
        "samples_total": finding.samples_total,
        "samples_hitting": finding.samples_hitting,
        "ratio": finding.ratio,
        "items_ngram": finding.items_ngram,
        "items_semantic": finding.items_semantic,
        "semantic_threshold": finding.semantic_threshold,
        "embedder": finding.embedder,
        "examples": finding.examples,
        "created_at": finding.created_at.isoformat(),
        "finished_at": finding.finished_at.isoformat() if finding.finished_at else None,
    }


def contamination_hits(*, viewer, dataset, benchmark: str = "", finding_id=None, signal: str = "") -> QuerySet[ContaminationHit]:
    """Every flagged item of the dataset's scans (the viewer must see the dataset): of one finding, or of the
    latest finished scan per benchmark; optionally one benchmark and one signal. Ordered by benchmark, item."""
    if signal and signal not in ContaminationHit.Signal.values:
        raise InvalidInput(f"unknown signal {signal!r}; expected one of {', '.join(ContaminationHit.Signal.values)}")
    dataset = dataset_get(viewer=viewer, slug=dataset.slug)  # NotFound unless visible
    findings = ContaminationFinding.objects.filter(dataset=dataset, status=ContaminationFinding.Status.DONE)
    if finding_id is not None:
        try:
            finding_id = int(finding_id)
        except (TypeError, ValueError):
            raise InvalidInput(f"finding must be an integer id, got {finding_id!r}") from None
        if not findings.filter(pk=finding_id).exists():
            raise NotFound(f"no finished contamination scan {finding_id} of dataset {dataset.slug!r}")
        wanted = [finding_id]
    else:
        if benchmark:
            findings = findings.filter(benchmark__slug=benchmark)
        latest: dict[int, int] = {}
        for pk, benchmark_id in findings.order_by("-created_at", "-id").values_list("pk", "benchmark_id"):
            latest.setdefault(benchmark_id, pk)
        wanted = list(latest.values())
    hits = ContaminationHit.objects.filter(finding_id__in=wanted).select_related("finding__benchmark")
    if signal:
        hits = hits.filter(signal=signal)
    return hits.order_by("finding__benchmark__slug", "item_position", "signal")


def hit_as_dict(hit: ContaminationHit) -> dict:
    return {
        "finding": hit.finding_id,
        "benchmark": hit.finding.benchmark.slug,
        "item_id": hit.item_id,
        "item_text": hit.item_text,
        "signal": hit.signal,
        "score": hit.score,
        "matched_ngram": hit.matched,
        "sample_idx": hit.sample_idx,
        "sample_id": hit.sample_id,
        "sample_text": hit.sample_text,
        "samples_matching": hit.samples_matching,
    }


def contamination_report(*, viewer, dataset) -> dict:
    """The dataset's scans (newest first) and the contaminated ancestors it inherits contamination from."""
    findings = ContaminationFinding.objects.filter(dataset=dataset).select_related("dataset", "benchmark")
    contaminated = _contaminated_ids(viewer=viewer)
    ancestors = _walk(viewer=viewer, start={dataset.pk}, depth=MAX_DEPTH * 5, upward=True)
    sources = [pk for pk in ancestors if pk in contaminated]
    slug_of = dict(dataset_visible_queryset(viewer=viewer).filter(pk__in=sources).values_list("pk", "slug"))
    return {
        "dataset": dataset.slug,
        "findings": [finding_as_dict(f) for f in findings],
        "inherits_contamination_from": [
            {"dataset": slug_of[pk], "distance": ancestors[pk], "findings": contaminated[pk]}
            for pk in sorted(sources, key=lambda p: (ancestors[p], slug_of[p]))
        ],
    }


# --- OpenLineage export (lineage/openlineage.py) --------------------------------------------------------


def lineage_openlineage_events(*, viewer, slugs: Sequence[str], depth=2) -> list[dict]:
    """OpenLineage 2-0-2 run events for the targets' visible subgraph: see ``lineage.openlineage``."""
    from lineage import openlineage

    return openlineage.lineage_openlineage_events(viewer=viewer, slugs=slugs, depth=depth)


# --- Dataset card (genealogy view) --------------------------------------------------------------


def _optional_selector(module: str, name: str):
    """A selector of another app if that app provides it (presence check only: import errors inside it surface)."""
    import importlib
    import importlib.util

    try:
        spec = importlib.util.find_spec(module)
    except ModuleNotFoundError:  # the parent package itself is absent
        return None
    if spec is None:
        return None
    return getattr(importlib.import_module(module), name, None)


def dataset_card(*, viewer, slug: str) -> dict:
    """What the genealogy view shows for a clicked dataset: metadata, score summary and leaderboard rank
    where those apps provide them, parents with evidence, contamination."""
    dataset = dataset_get(viewer=viewer, slug=slug)
    parents = [edge_as_dict(e) for e in edge_list(viewer=viewer, dataset=dataset).filter(child=dataset)]
    card = {
        "slug": dataset.slug,
        **_dataset_summary(dataset),
        "license": dataset.license,
        "description": dataset.description,
        "created_at": dataset.created_at.isoformat(),
        "parents": parents,
        "contamination": contamination_report(viewer=viewer, dataset=dataset),
        "scores": None,
        "leaderboard": [],
    }
    score_summary = _optional_selector("scoring.selectors", "dataset_score_summary")
    if score_summary is not None:
        card["scores"] = score_summary(dataset=dataset)
    leaderboard_get = _optional_selector("training.leaderboard.selectors", "leaderboard_get")
    if leaderboard_get is not None:
        from training.models import Job

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


def genealogy_default_target(*, viewer) -> str | None:
    """The dataset the genealogy page opens on: the visible dataset with the most current lineage edges
    (ties: contaminated first, then by name), so a first visit shows a family rather than an empty canvas."""
    from collections import Counter

    degree: Counter = Counter()
    for parent_id, child_id in current_edges(viewer=viewer).values_list("parent_id", "child_id"):
        degree[parent_id] += 1
        degree[child_id] += 1
    if not degree:
        return None
    contaminated = _contaminated_ids(viewer=viewer)
    names = dict(dataset_visible_queryset(viewer=viewer).filter(pk__in=list(degree)).values_list("pk", "slug"))
    best = min(names, key=lambda pk: (-degree[pk], pk not in contaminated, names[pk]))
    return names[best]
