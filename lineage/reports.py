"""Per-dataset lineage reports: measured sample overlap, contamination scans and their flagged items, and the
contamination a dataset inherits from its ancestors; always scoped to what the viewer may see."""
from __future__ import annotations

from django.db.models import Q, QuerySet

from arena.errors import InvalidInput, NotFound
from arena.permissions import dataset_visible_queryset
from arena.selectors import dataset_get
from lineage.models import ContaminationFinding, ContaminationHit, DatasetOverlap, DatasetSignature
from lineage.selectors import MAX_DEPTH, _contaminated_ids, _walk


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
