"""Writes to the lineage graph. Edges are appended, never edited: history is kept."""
from __future__ import annotations

import datetime

from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone

from arena.errors import ArenaError, Forbidden, InvalidInput
from arena.queueing import enqueue_on_commit
from arena.models import Dataset
from arena.permissions import dataset_can_edit, dataset_can_view, dataset_in_owner_scope, dataset_visible_queryset
from arena.storage import stored_size
from lineage import overlap_index
from lineage.bulk_import import MAX_REPORTED_ERRORS, parse_edge_lines
from lineage.contamination_services import contamination_scan_request, contamination_scan_run  # noqa: F401 (re-exported)
from lineage.inference import InferredEdge, Node, Pair, infer_edges
from lineage.minhash import MinHashParams
from lineage.models import DatasetOverlap, DatasetRelease, DatasetSignature, LineageEdge, ScopeOverride

RELATIONS = {choice.value for choice in LineageEdge.Relation}
INFERENCE_LOCK = 0x4C494E45  # pg advisory lock key of edge inference


def edge_record(
    *,
    child,
    parent,
    relation: str,
    origin: str,
    confidence: float = 1.0,
    evidence: str = "",
    details: dict | None = None,
    created_by=None,
    scope_id: int | None = None,
) -> LineageEdge:
    """Add an edge ``parent -> child``. A previous current edge of the same pair, origin and scope is superseded,
    not lost."""
    if relation not in RELATIONS:
        raise InvalidInput(f"unknown lineage relation {relation!r}; expected one of {', '.join(sorted(RELATIONS))}")
    if origin not in LineageEdge.Origin.values:
        raise InvalidInput(f"unknown lineage origin {origin!r}; expected declared or inferred")
    if child.pk == parent.pk:
        raise InvalidInput(f"a dataset cannot be its own parent ({child.slug})")
    try:
        confidence = float(confidence)
    except (TypeError, ValueError):
        raise InvalidInput(f"confidence must be a number between 0 and 1, got {confidence!r}") from None
    if not 0.0 <= confidence <= 1.0:
        raise InvalidInput(f"confidence must be between 0 and 1, got {confidence}")
    with transaction.atomic():
        LineageEdge.objects.filter(
            child=child, parent=parent, origin=origin, scope_id=scope_id, superseded_at__isnull=True
        ).update(superseded_at=timezone.now())
        return LineageEdge.objects.create(
            child=child,
            parent=parent,
            relation=relation,
            origin=origin,
            confidence=confidence,
            evidence=evidence,
            details=details or {},
            created_by=created_by,
            scope_id=scope_id,
        )


def edge_declare(*, child, parent, relation: str, evidence: str = "", confidence: float = 1.0, created_by=None) -> LineageEdge:
    return edge_record(
        child=child,
        parent=parent,
        relation=relation,
        origin=LineageEdge.Origin.DECLARED,
        confidence=confidence,
        evidence=evidence,
        created_by=created_by,
    )


def edge_retract(*, edge: LineageEdge) -> None:
    """Mark a current edge superseded without a replacement (history kept)."""
    LineageEdge.objects.filter(pk=edge.pk, superseded_at__isnull=True).update(superseded_at=timezone.now())


def edge_create(*, user, child, parent, relation: str, evidence: str = "", confidence: float = 1.0) -> LineageEdge:
    """A user declares ``parent -> child``: only the child's owner may, and the parent must be visible to them."""
    if user is None or not user.is_authenticated:
        raise Forbidden("log in to declare lineage")
    if not dataset_can_edit(dataset=child, user=user):
        raise Forbidden(f"only the owner of {child.slug!r} may declare its parents")
    if not dataset_can_view(dataset=parent, user=user):
        raise Forbidden(f"cannot declare parent {parent.slug!r}: it is private to another user")
    return edge_declare(
        child=child, parent=parent, relation=relation, evidence=evidence, confidence=confidence, created_by=user
    )


def edges_import_jsonl(*, user, upload) -> list[LineageEdge]:
    """Declare edges from a JSONL file; every line is validated first, then all are written in one
    transaction, or none: any error raises InvalidInput listing the failing lines."""
    lines, errors = parse_edge_lines(upload)
    slugs = {line.target for line in lines} | {line.source for line in lines}
    datasets = {d.slug: d for d in dataset_visible_queryset(viewer=user).filter(slug__in=slugs)}
    for line in lines:
        for role, slug in (("target", line.target), ("source", line.source)):
            if slug not in datasets:
                errors.append(f"line {line.line}: {role} dataset {slug!r} does not exist")
        target = datasets.get(line.target)
        if target is not None and not dataset_can_edit(dataset=target, user=user):
            errors.append(f"line {line.line}: only the owner of {line.target!r} may declare its parents")
    if not lines and not errors:
        errors.append("the file has no edges")
    if errors:
        errors.sort(key=_line_number)
        shown = errors[:MAX_REPORTED_ERRORS]
        more = f" (and {len(errors) - len(shown)} more)" if len(errors) > len(shown) else ""
        raise InvalidInput(f"lineage import refused, nothing was written: {'; '.join(shown)}{more}")
    created = []
    with transaction.atomic():
        for line in lines:
            try:
                created.append(
                    edge_create(
                        user=user,
                        child=datasets[line.target],
                        parent=datasets[line.source],
                        relation=line.relation,
                        evidence=line.evidence,
                        confidence=line.confidence,
                    )
                )
            except ArenaError as exc:
                raise type(exc)(f"line {line.line}: {exc.message}; nothing was written") from None
    return created


def _line_number(message: str) -> int:
    head = message.split(":", 1)[0]
    return int(head[5:]) if head.startswith("line ") and head[5:].isdigit() else 0


# --- Inferred edges: the MinHash/LSH overlap index ----------------------------------------------


def dataset_index_enqueue(*, dataset: Dataset) -> None:
    """ARENA_AFTER_INGEST_HOOKS entry: queue the overlap indexing of a freshly ingested dataset.

    Only records the request and enqueues ``lineage.tasks.dataset_overlap_index_task`` once the
    current transaction commits; the work itself runs on the ``ingest`` queue.
    """
    from lineage.tasks import dataset_overlap_index_task

    DatasetSignature.objects.update_or_create(
        dataset=dataset, defaults={"status": DatasetSignature.Status.QUEUED, "error": ""}
    )

    enqueue_on_commit(
        task=dataset_overlap_index_task,
        args=[dataset.pk],
        on_sent=lambda task_id: DatasetSignature.objects.filter(dataset=dataset).update(task_id=task_id),
    )


def dataset_overlap_index(
    *, dataset_id: int, params: MinHashParams | None = None, recompute_signatures: bool = False
) -> DatasetSignature:
    """Index one dataset: signatures (once), LSH band file, overlap with every indexed dataset, inferred edges.

    Other datasets' signatures are only read. Re-running is safe: the dataset's own rows are replaced.
    Failures are recorded on its DatasetSignature row and re-raised.
    """
    params = params or MinHashParams()
    dataset = Dataset.objects.get(pk=dataset_id)
    record, _ = DatasetSignature.objects.get_or_create(dataset=dataset)
    if record.signature_file and record.params and record.params != params.as_dict():
        raise InvalidInput(
            f"dataset {dataset.slug!r} was indexed with {record.params}; re-indexing with other parameters "
            "needs every dataset re-indexed (recompute_signatures=True on each)"
        )
    DatasetSignature.objects.filter(pk=record.pk).update(status=DatasetSignature.Status.INDEXING, error="")
    try:
        bands_file = record.bands_file
        if recompute_signatures or not record.signature_file:
            # out of the search before its files are rewritten: nobody pairs old band keys with new signatures
            DatasetSignature.objects.filter(pk=record.pk).update(bands_file="", bands_parts=0)
            bands_file = ""
            signature_file = overlap_index.compute_signature_files(dataset=dataset, params=params)
            DatasetSignature.objects.filter(pk=record.pk).update(
                signature_file=signature_file,
                sample_count=dataset.sample_count or 0,
                params=params.as_dict(),
                signed_at=timezone.now(),
            )
        else:
            signature_file = record.signature_file
        # The band file is derived from the signature file and recorded after it, before the search: a crash in
        # between heals on re-run, and two datasets indexed concurrently always find each other (whichever
        # searches last sees the other's recorded band file).
        parts = overlap_index.bands_part_names(bands_file, record.bands_parts) if bands_file else []
        if not parts or not all(stored_size(part) for part in parts):  # missing (older index, or removed): rebuild
            bands_file, n_parts = overlap_index.write_bands_file(dataset_id=dataset.pk, signature_file=signature_file, params=params)
            DatasetSignature.objects.filter(pk=record.pk).update(bands_file=bands_file, bands_parts=n_parts)
        overlaps = overlap_index.measure_overlaps(dataset=dataset, signature_file=signature_file, params=params)
        neighbours = overlap_index.replace_overlaps(dataset_id=dataset.pk, overlaps=overlaps)
        edges_infer(dataset_ids=[dataset.pk, *sorted(neighbours)], threshold=params.threshold)
    except Exception as exc:
        DatasetSignature.objects.filter(pk=record.pk).update(
            status=DatasetSignature.Status.FAILED, error=f"{type(exc).__name__}: {exc}"
        )
        raise
    DatasetSignature.objects.filter(pk=record.pk).update(status=DatasetSignature.Status.READY, indexed_at=timezone.now())
    record.refresh_from_db()
    return record


def _component(dataset_ids: list[int]) -> set[int]:
    """Every dataset joined to ``dataset_ids`` by measured overlap or a current declared edge."""
    seen = set(dataset_ids)
    frontier = set(dataset_ids)
    while frontier:
        found = set()
        for a, b in DatasetOverlap.objects.filter(Q(a_id__in=frontier) | Q(b_id__in=frontier)).values_list("a_id", "b_id"):
            found.update((a, b))
        for p, c in LineageEdge.objects.filter(
            Q(child_id__in=frontier) | Q(parent_id__in=frontier), origin=LineageEdge.Origin.DECLARED, superseded_at__isnull=True
        ).values_list("parent_id", "child_id"):
            found.update((p, c))
        frontier = found - seen
        seen |= found
    return seen


def _lock_inference() -> None:
    """Serialise edge inference (one component rewrite at a time); no-op outside PostgreSQL."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [INFERENCE_LOCK])


def edges_infer(*, dataset_ids: list[int], threshold: float) -> list[LineageEdge]:
    """Re-decide every inferred edge of the datasets joined to ``dataset_ids`` (their overlap component).

    Inference runs once per *scope*: the public datasets (scope ``None``, what anyone sees) and, for each
    owner of a private dataset in the component, the public datasets plus that owner's private ones. An
    owner's scope keeps only the children whose parents differ from the public scope (a ScopeOverride
    row each), so what a viewer receives never depends on datasets they cannot see. Only changes are
    written: a changed edge supersedes the old row, a vanished (or reversed) one is retracted.
    """
    written: list[LineageEdge] = []
    with transaction.atomic():
        _lock_inference()
        members = _component([d for d in dataset_ids if Dataset.objects.filter(pk=d).exists()])
        datasets = {
            d.pk: d for d in Dataset.objects.filter(pk__in=members).only("pk", "slug", "sample_count", "visibility", "owner_id", "content_hash")
        }
        released = dict(DatasetRelease.objects.filter(dataset_id__in=datasets).values_list("dataset_id", "released_on"))
        pairs = [
            Pair(x=o.a_id, y=o.b_id, x_matched=o.a_matched, y_matched=o.b_matched, x_exact=o.a_exact, y_exact=o.b_exact)
            for o in DatasetOverlap.objects.filter(a_id__in=datasets, b_id__in=datasets)
        ]
        declared = list(
            LineageEdge.objects.filter(
                origin=LineageEdge.Origin.DECLARED, superseded_at__isnull=True, child_id__in=datasets, parent_id__in=datasets
            ).values_list("parent_id", "child_id")
        )
        public = {pk for pk, d in datasets.items() if dataset_in_owner_scope(dataset=d, owner_id=None)}
        owners = {d.owner_id for d in datasets.values() if not dataset_in_owner_scope(dataset=d, owner_id=None)}
        owners |= set(ScopeOverride.objects.filter(dataset_id__in=datasets).values_list("owner_id", flat=True))
        owners |= set(
            LineageEdge.objects.filter(child_id__in=datasets, scope__isnull=False, superseded_at__isnull=True).values_list("scope_id", flat=True)
        )

        def infer(scope_ids: set[int]) -> dict[int, dict[int, InferredEdge]]:
            nodes = {
                pk: Node(
                    id=pk,
                    slug=datasets[pk].slug,
                    size=int(datasets[pk].sample_count or 0),
                    released=released.get(pk),
                    tiebreak=datasets[pk].content_hash,
                )
                for pk in scope_ids
            }
            by_child: dict[int, dict[int, InferredEdge]] = {}
            for edge in infer_edges(nodes=nodes, pairs=pairs, declared=declared, threshold=threshold):
                by_child.setdefault(edge.child, {})[edge.parent] = edge
            return by_child

        public_edges = infer(public)
        for child in datasets:  # a dataset no longer public loses its public-scope edges
            written += _write_child_edges(child=datasets[child], proposed=public_edges.get(child, {}), scope_id=None, datasets=datasets)
        for owner in sorted(owners):
            scope_ids = {pk for pk, d in datasets.items() if dataset_in_owner_scope(dataset=d, owner_id=owner)}
            scoped = infer(scope_ids)
            overridden = {c for c in scope_ids if _signature(scoped.get(c, {})) != _signature(public_edges.get(c, {}))}
            ScopeOverride.objects.filter(owner_id=owner, dataset_id__in=datasets).exclude(dataset_id__in=overridden).delete()
            ScopeOverride.objects.bulk_create(
                [ScopeOverride(owner_id=owner, dataset_id=c) for c in sorted(overridden)], ignore_conflicts=True
            )
            for child in members & set(datasets):
                proposed = scoped.get(child, {}) if child in overridden else {}
                written += _write_child_edges(child=datasets[child], proposed=proposed, scope_id=owner, datasets=datasets)
    return written


def dataset_release_declare(*, user, dataset: Dataset, released_on: datetime.date) -> DatasetRelease:
    """The owner declares when ``dataset`` was released; the inferred edges around it are re-decided
    (of two overlapping datasets that both have a date, the older is the parent)."""
    if user is None or not user.is_authenticated:
        raise Forbidden("log in to declare a release date")
    if not dataset_can_edit(dataset=dataset, user=user):
        raise Forbidden(f"only the owner of {dataset.slug!r} may declare its release date")
    if not isinstance(released_on, datetime.date) or released_on > timezone.now().date():
        raise InvalidInput(f"released_on must be a date not in the future, got {released_on!r}")
    with transaction.atomic():
        release, _ = DatasetRelease.objects.update_or_create(
            dataset=dataset, defaults={"released_on": released_on, "declared_by": user}
        )
        signature = DatasetSignature.objects.filter(dataset=dataset).first()
        threshold = (signature.params or {}).get("threshold") if signature else None
        edges_infer(dataset_ids=[dataset.pk], threshold=threshold or MinHashParams().threshold)
    return release


def _signature(edges: dict[int, InferredEdge]) -> set[tuple]:
    return {(e.parent, e.relation, e.confidence, e.evidence) for e in edges.values()}


def _write_child_edges(*, child: Dataset, proposed: dict[int, InferredEdge], scope_id, datasets: dict) -> list[LineageEdge]:
    """Make the current inferred edges of ``child`` in ``scope_id`` equal ``proposed`` (history kept)."""
    current = {
        e.parent_id: e
        for e in LineageEdge.objects.filter(
            child=child, origin=LineageEdge.Origin.INFERRED, scope_id=scope_id, superseded_at__isnull=True
        )
    }
    written = []
    for parent_id, edge in proposed.items():
        existing = current.pop(parent_id, None)
        if (
            existing is not None
            and existing.relation == edge.relation
            and abs(existing.confidence - edge.confidence) < 0.005
            and existing.details.get("direction_basis") == edge.details["direction_basis"]
            and existing.details.get("sources") == edge.details["sources"]
        ):
            continue
        written.append(
            edge_record(
                child=child,
                parent=datasets[parent_id],
                relation=edge.relation,
                origin=LineageEdge.Origin.INFERRED,
                confidence=edge.confidence,
                evidence=edge.evidence,
                details=edge.details,
                scope_id=scope_id,
            )
        )
    for stale in current.values():
        edge_retract(edge=stale)
    return written
