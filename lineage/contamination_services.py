"""Writes of benchmark contamination scans: request (queued, enqueued after commit) and run."""
from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from arena.errors import Forbidden, InvalidInput
from arena.queueing import enqueue_on_commit
from arena.models import Dataset
from lineage.contamination import MAX_EXAMPLES, benchmark_ngrams, scan_dataset
from lineage.models import ContaminationFinding, ContaminationHit
from lineage.semantic import SEMANTIC_THRESHOLD, semantic_index
from training.models import Benchmark
from training.selectors import benchmark_iter_items

MAX_TEXT = 4000  # characters of each side's text kept on a hit


def contamination_scan_request(
    *, user, dataset: Dataset, benchmarks: list[Benchmark], ngram_size: int = 13, semantic: bool = False
) -> list[ContaminationFinding]:
    """Record one queued finding per benchmark and enqueue their scans (after commit) on the ingest queue.
    ``semantic`` adds the embedding signal (MiniLM, calibrated threshold) next to the n-gram one."""
    from lineage.tasks import contamination_scan_task

    if user is None or not user.is_authenticated:
        raise Forbidden("log in to start a contamination scan")
    if not benchmarks:
        raise InvalidInput("name at least one benchmark to scan against")
    if isinstance(ngram_size, bool) or not isinstance(ngram_size, int) or not 3 <= ngram_size <= 50:
        raise InvalidInput(f"ngram_size must be an integer between 3 and 50, got {ngram_size!r}")
    if not isinstance(semantic, bool):
        raise InvalidInput(f"semantic must be true or false, got {semantic!r}")
    if dataset.status != Dataset.Status.READY:
        raise InvalidInput(f"dataset {dataset.slug!r} is not ingested yet (status {dataset.status})")
    with transaction.atomic():
        findings = [
            ContaminationFinding.objects.create(
                dataset=dataset,
                benchmark=b,
                ngram_size=ngram_size,
                semantic_threshold=SEMANTIC_THRESHOLD if semantic else None,
                created_by=user,
            )
            for b in benchmarks
        ]

        for finding in findings:
            enqueue_on_commit(
                task=contamination_scan_task,
                args=[finding.pk],
                on_sent=lambda task_id, pk=finding.pk: ContaminationFinding.objects.filter(pk=pk).update(
                    task_id=task_id
                ),
            )
    return findings


def _hit_row(*, finding_id: int, index, hit) -> ContaminationHit:
    return ContaminationHit(
        finding_id=finding_id,
        item_id=index.item_ids[hit.item][:200],
        item_position=hit.item,
        item_text=index.item_texts[hit.item][:MAX_TEXT],
        signal=hit.signal,
        score=hit.score,
        matched=hit.matched,
        sample_idx=hit.sample_idx,
        sample_id=str(hit.sample_id or "")[:200],
        sample_text=hit.sample_text[:MAX_TEXT],
        samples_matching=hit.samples_matching,
    )


def contamination_scan_run(*, finding_id: int) -> ContaminationFinding:
    """Run one queued scan: benchmark n-gram index (+ embeddings), stream the dataset, store every hit."""
    finding = ContaminationFinding.objects.select_related("dataset", "benchmark").get(pk=finding_id)
    if finding.status == ContaminationFinding.Status.DONE:
        return finding
    ContaminationFinding.objects.filter(pk=finding.pk).update(status=ContaminationFinding.Status.RUNNING, error="")
    try:
        index = benchmark_ngrams(items=benchmark_iter_items(benchmark=finding.benchmark), ngram_size=finding.ngram_size)
        semantic = None
        if finding.semantic_threshold is not None:
            semantic = semantic_index(prompts=index.item_prompts, threshold=finding.semantic_threshold)
        result = scan_dataset(dataset=finding.dataset, index=index, semantic=semantic)
    except Exception as exc:
        ContaminationFinding.objects.filter(pk=finding.pk).update(
            status=ContaminationFinding.Status.FAILED, error=f"{type(exc).__name__}: {exc}", finished_at=timezone.now()
        )
        raise
    rows = [_hit_row(finding_id=finding.pk, index=index, hit=h) for _, h in sorted(result.hits.items())]
    with transaction.atomic():
        ContaminationHit.objects.filter(finding_id=finding.pk).delete()
        ContaminationHit.objects.bulk_create(rows, batch_size=1000)
        ContaminationFinding.objects.filter(pk=finding.pk).update(
            status=ContaminationFinding.Status.DONE,
            items_total=result.items_total,
            items_contaminated=result.items_contaminated,
            items_ngram=result.items_by("ngram"),
            items_semantic=result.items_by("semantic"),
            samples_total=result.samples_total,
            samples_hitting=result.samples_hitting,
            ratio=result.ratio,
            embedder=semantic.identity if semantic is not None else {},
            examples=[
                {"item_id": r.item_id, "signal": r.signal, "sample_idx": r.sample_idx, "sample_id": r.sample_id,
                 "ngram": r.matched, "score": r.score}
                for r in rows[:MAX_EXAMPLES]
            ],
            finished_at=timezone.now(),
        )
    finding.refresh_from_db()
    return finding
