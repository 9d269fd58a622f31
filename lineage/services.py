"""Writes to the lineage graph. Edges are appended, never edited: history is kept."""
from __future__ import annotations

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from arena.errors import ArenaError, Forbidden, InvalidInput
from arena.models import Dataset
from arena.selectors import dataset_visible_queryset
from lineage import overlap_index
from lineage.bulk_import import MAX_REPORTED_ERRORS, parse_edge_lines
from lineage.contamination import benchmark_ngrams, scan_dataset
from lineage.inference import Neighbour, propose_parent_edges
from lineage.minhash import MinHashParams
from lineage.models import ContaminationFinding, DatasetOverlap, DatasetSignature, LineageEdge
from training.models import Benchmark
from training.selectors import benchmark_iter_items

RELATIONS = {choice.value for choice in LineageEdge.Relation}


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
) -> LineageEdge:
    """Add an edge ``parent -> child``. A previous current edge of the same pair and origin is superseded, not lost."""
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
            child=child, parent=parent, origin=origin, superseded_at__isnull=True
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
    if child.owner_id != user.pk and not user.is_staff:
        raise Forbidden(f"only the owner of {child.slug!r} may declare its parents")
    if parent.owner_id != user.pk and not parent.is_public and not user.is_staff:
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
        if target is not None and target.owner_id != user.pk and not user.is_staff:
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

    def enqueue() -> None:
        result = dataset_overlap_index_task.delay(dataset.pk)
        DatasetSignature.objects.filter(dataset=dataset).update(task_id=result.id or "")

    transaction.on_commit(enqueue)


def dataset_overlap_index(
    *, dataset_id: int, params: MinHashParams | None = None, recompute_signatures: bool = False
) -> DatasetSignature:
    """Index one dataset: signatures (once), LSH rows, overlap with every indexed dataset, inferred edges.

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
        if recompute_signatures or not record.signature_file:
            signature_file = overlap_index.compute_signature_files(dataset=dataset, params=params)
            DatasetSignature.objects.filter(pk=record.pk).update(
                signature_file=signature_file,
                sample_count=dataset.sample_count or 0,
                params=params.as_dict(),
                signed_at=timezone.now(),
            )
        else:
            signature_file = record.signature_file
        # The signature file is recorded before the LSH rows commit, and the rows are always rewritten
        # (idempotent), so a crash in between heals on re-run and two datasets indexed concurrently
        # always find each other: whichever searches last sees the other's committed rows.
        overlap_index.insert_buckets(dataset_id=dataset.pk, signature_file=signature_file, params=params)
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


def edges_infer(*, dataset_ids: list[int], threshold: float) -> list[LineageEdge]:
    """Re-derive the inferred parent edges of each dataset from its stored overlaps; only changes are written."""

    written = []
    for dataset_id in dataset_ids:
        with transaction.atomic():
            dataset = Dataset.objects.select_for_update().filter(pk=dataset_id).first()
            if dataset is None:
                continue  # deleted meanwhile: its edges went with it
            rows = list(DatasetOverlap.objects.filter(Q(a_id=dataset_id) | Q(b_id=dataset_id)))
            other_ids = [r.b_id if r.a_id == dataset_id else r.a_id for r in rows]
            others = {d.pk: d for d in Dataset.objects.filter(pk__in=other_ids).only("pk", "slug", "created_at")}
            neighbours = []
            for row, other_id in zip(rows, other_ids):
                other = others[other_id]
                mine_is_a = row.a_id == dataset_id
                neighbours.append(
                    Neighbour(
                        dataset_id=other_id,
                        slug=other.slug,
                        older=(other.created_at, other.pk) < (dataset.created_at, dataset.pk),
                        share_self=row.a_in_b if mine_is_a else row.b_in_a,
                        share_other=row.b_in_a if mine_is_a else row.a_in_b,
                        matched_self=row.a_matched if mine_is_a else row.b_matched,
                        matched_other=row.b_matched if mine_is_a else row.a_matched,
                    )
                )
            proposals = propose_parent_edges(slug=dataset.slug, neighbours=neighbours, threshold=threshold)
            current = {
                e.parent_id: e
                for e in LineageEdge.objects.filter(
                    child_id=dataset_id, origin=LineageEdge.Origin.INFERRED, superseded_at__isnull=True
                )
            }
            for proposal in proposals:
                existing = current.pop(proposal.parent_id, None)
                if (
                    existing is not None
                    and existing.relation == proposal.relation
                    and abs(existing.confidence - proposal.confidence) < 0.005
                ):
                    continue
                written.append(
                    edge_record(
                        child=dataset,
                        parent=others[proposal.parent_id],
                        relation=proposal.relation,
                        origin=LineageEdge.Origin.INFERRED,
                        confidence=proposal.confidence,
                        evidence=proposal.evidence,
                        details=proposal.details,
                    )
                )
            for stale in current.values():
                edge_retract(edge=stale)
    return written


# --- Benchmark contamination -------------------------------------------------------------------


def contamination_scan_request(
    *, user, dataset: Dataset, benchmarks: list[Benchmark], ngram_size: int = 13
) -> list[ContaminationFinding]:
    """Record one queued finding per benchmark and enqueue their scans (after commit) on the ingest queue."""
    from lineage.tasks import contamination_scan_task

    if user is None or not user.is_authenticated:
        raise Forbidden("log in to start a contamination scan")
    if not benchmarks:
        raise InvalidInput("name at least one benchmark to scan against")
    if isinstance(ngram_size, bool) or not isinstance(ngram_size, int) or not 3 <= ngram_size <= 50:
        raise InvalidInput(f"ngram_size must be an integer between 3 and 50, got {ngram_size!r}")
    if dataset.status != Dataset.Status.READY:
        raise InvalidInput(f"dataset {dataset.slug!r} is not ingested yet (status {dataset.status})")
    with transaction.atomic():
        findings = [
            ContaminationFinding.objects.create(dataset=dataset, benchmark=b, ngram_size=ngram_size, created_by=user)
            for b in benchmarks
        ]

        def enqueue() -> None:
            for finding in findings:
                result = contamination_scan_task.delay(finding.pk)
                ContaminationFinding.objects.filter(pk=finding.pk).update(task_id=result.id or "")

        transaction.on_commit(enqueue)
    return findings


def contamination_scan_run(*, finding_id: int) -> ContaminationFinding:
    """Run one queued scan: stream the benchmark into an n-gram index, stream the dataset against it."""
    finding = ContaminationFinding.objects.select_related("dataset", "benchmark").get(pk=finding_id)
    if finding.status == ContaminationFinding.Status.DONE:
        return finding
    ContaminationFinding.objects.filter(pk=finding.pk).update(status=ContaminationFinding.Status.RUNNING, error="")
    try:
        index = benchmark_ngrams(items=benchmark_iter_items(benchmark=finding.benchmark), ngram_size=finding.ngram_size)
        result = scan_dataset(dataset=finding.dataset, index=index)
    except Exception as exc:
        ContaminationFinding.objects.filter(pk=finding.pk).update(
            status=ContaminationFinding.Status.FAILED, error=f"{type(exc).__name__}: {exc}", finished_at=timezone.now()
        )
        raise
    ContaminationFinding.objects.filter(pk=finding.pk).update(
        status=ContaminationFinding.Status.DONE,
        items_total=result.items_total,
        items_contaminated=result.items_contaminated,
        samples_total=result.samples_total,
        samples_hitting=result.samples_hitting,
        ratio=result.ratio,
        examples=result.examples,
        finished_at=timezone.now(),
    )
    finding.refresh_from_db()
    return finding
