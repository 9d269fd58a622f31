"""Writes of the scoring engine that users trigger: start, resume and cancel runs.

A run is split into chunks (rows [start, end) x a group of scorers). Each chunk is one Celery task on the
``scoring`` queue (sent on commit); what a worker does with it is in :mod:`scoring.chunk_services`; exporting a
filtered subset as a new dataset is in :mod:`scoring.subset_services`.
"""
from __future__ import annotations

import json
import logging

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from arena.errors import Conflict, Forbidden, InvalidInput, NotFound
from arena.models import Dataset
from arena.permissions import dataset_can_score, run_can_manage
from arena.queueing import enqueue_on_commit
from arena.storage import chunk_output_name, delete_quietly, open_parquet
from scoring.chunk_services import SAMPLE_GROUP, _build, _enqueue_finalize
from scoring.models import ScoringChunk, ScoringRun
from scoring.scorers.base import Scorer

logger = logging.getLogger(__name__)
MAX_SCORERS_PER_RUN = 64


# --- starting a run -----------------------------------------------------------------------------------


def _spec_items(scorers) -> list[tuple[str, dict]]:
    if not isinstance(scorers, (list, tuple)) or not scorers:
        raise InvalidInput('choose at least one scorer, e.g. [{"name": "mtld"}] (GET /api/v1/scorers/ lists them)')
    if len(scorers) > MAX_SCORERS_PER_RUN:
        raise InvalidInput(f"at most {MAX_SCORERS_PER_RUN} scorers per run, got {len(scorers)}")
    items: list[tuple[str, dict]] = []
    seen: set[str] = set()
    for position, spec in enumerate(scorers):
        if isinstance(spec, str):
            spec = {"name": spec}
        if not isinstance(spec, dict):
            raise InvalidInput(f'scorer #{position + 1} must be an object like {{"name": ..., "config": {{...}}}}')
        unknown = set(spec) - {"name", "config"}
        if unknown:
            raise InvalidInput(
                f"scorer #{position + 1}: unknown key(s) {', '.join(sorted(unknown))}; use name and config"
            )
        name, config = spec.get("name"), spec.get("config") or {}
        if not isinstance(name, str) or not name:
            raise InvalidInput(f"scorer #{position + 1} has no name")
        if not isinstance(config, dict):
            raise InvalidInput(f"scorer {name!r}: config must be an object, got {type(config).__name__}")
        if name in seen:
            raise InvalidInput(f"scorer {name!r} is listed twice; score another configuration in a second run")
        seen.add(name)
        items.append((name, config))
    return items


def _describe(scorer: Scorer) -> dict:
    meta = scorer.meta
    return {
        "name": meta.name,
        "config": scorer.config,
        "version": meta.version,
        "config_hash": scorer.config_hash(),
        "model_identity": scorer.model_identity(),
        "scope": meta.scope,
        "axis": meta.axis,
        "reads": meta.reads,
        "higher_is_better": meta.higher_is_better,
        **({"vector_chunks": True} if scorer.vector_chunks else {}),
    }


def _validated_specs(scorers) -> list[dict]:
    specs = []
    for name, config in _spec_items(scorers):
        scorer = _build(name, config)
        try:
            specs.append(json.loads(json.dumps(_describe(scorer), default=str)))
        finally:
            scorer.close()
    return specs


def scoring_run_start(*, dataset: Dataset, scorers: list, user, chunk_rows: int | None = None) -> ScoringRun:
    """Validate the scorer specs and the dataset, record the run and its chunks, and enqueue the chunks.

    Everything is checked before anything is written: unknown scorer, bad config, duplicate scorer,
    dataset not ready -> InvalidInput with the reason, and no run.
    """
    if user is None or not user.is_authenticated:
        raise Forbidden("log in to start a scoring run")
    if not dataset_can_score(dataset=dataset, user=user):
        raise NotFound(f"no dataset {dataset.slug!r}")
    if dataset.status != Dataset.Status.READY or not dataset.samples_file:
        raise InvalidInput(
            f"dataset {dataset.slug!r} is not ready to score (status: {dataset.status}); wait for its ingest to finish"
        )
    chunk_rows = settings.ARENA_SCORING_CHUNK_ROWS if chunk_rows is None else chunk_rows
    if isinstance(chunk_rows, bool) or not isinstance(chunk_rows, int) or chunk_rows < 1:
        raise InvalidInput(f"chunk_rows must be a positive integer, got {chunk_rows!r}")
    specs = _validated_specs(scorers)
    rows_total = open_parquet(dataset.samples_file).metadata.num_rows
    if rows_total == 0:
        raise InvalidInput(f"dataset {dataset.slug!r} has no samples to score")

    sample_scorers = [s["name"] for s in specs if s["scope"] == "sample"]
    vector_scorers = [s["name"] for s in specs if s.get("vector_chunks")]
    with transaction.atomic():
        run = ScoringRun.objects.create(
            dataset=dataset, created_by=user, scorers=specs, rows_total=rows_total, chunk_rows=chunk_rows
        )
        chunks = []
        if sample_scorers:
            for start in range(0, rows_total, chunk_rows):
                chunks.append(
                    _chunk(
                        run=run,
                        group=SAMPLE_GROUP,
                        scorers=sample_scorers,
                        start=start,
                        end=min(start + chunk_rows, rows_total),
                    )
                )
        for name in vector_scorers:  # resumable row-range chunks of vectors, reduced at finalize
            for start in range(0, rows_total, chunk_rows):
                end = min(start + chunk_rows, rows_total)
                chunks.append(_chunk(run=run, group=name, scorers=[name], start=start, end=end))
        for spec in specs:
            if spec["scope"] != "sample" and not spec.get("vector_chunks"):
                chunks.append(_chunk(run=run, group=spec["name"], scorers=[spec["name"]], start=0, end=rows_total))
        ScoringChunk.objects.bulk_create(chunks)
    _enqueue_chunks(run=run, chunk_ids=list(run.chunks.values_list("pk", flat=True)))
    run.refresh_from_db()
    return run


def _chunk(*, run: ScoringRun, group: str, scorers: list[str], start: int, end: int) -> ScoringChunk:
    setwise = len(scorers) == 1 and any(s["name"] == scorers[0] and s["scope"] == "setwise" for s in run.scorers)
    output = "" if setwise else chunk_output_name(dataset_id=run.dataset_id, run_id=run.pk, group=group, start=start)
    return ScoringChunk(run=run, group=group, scorers=scorers, start=start, end=end, output_name=output)


def _enqueue_chunks(*, run: ScoringRun, chunk_ids: list[int]) -> None:
    """Sent once the rows are committed, so a worker on another machine always finds them."""
    from scoring.tasks import scoring_chunk_task

    for chunk_id in chunk_ids:
        enqueue_on_commit(task=scoring_chunk_task, args=[chunk_id])


# --- resume and cancel -----------------------------------------------------------------------------------


def scoring_run_resume(*, run: ScoringRun, user=None) -> ScoringRun:
    """Re-enqueue only the chunks that are not done (pending, running on a dead worker, or failed); if every
    chunk is done but the merge did not finish, re-enqueue the merge."""
    if user is not None and not run_can_manage(run=run, user=user):
        raise Forbidden("only the run's creator or the dataset's owner may resume this run")
    if run.status == ScoringRun.Status.SUCCEEDED:
        raise Conflict(f"scoring run {run.pk} already succeeded; nothing to resume")
    if run.status == ScoringRun.Status.CANCELLED:
        raise Conflict(f"scoring run {run.pk} was cancelled; start a new run")
    with transaction.atomic():
        run = ScoringRun.objects.select_for_update().get(pk=run.pk)
        pending = list(run.chunks.exclude(status=ScoringChunk.Status.DONE).values_list("pk", flat=True))
        run.error = ""
        run.finished_at = None
        run.status = ScoringRun.Status.RUNNING if pending else ScoringRun.Status.FINALIZING
        run.save(update_fields=["error", "finished_at", "status"])
        # a user's resume overrides the leases of chunks a dead worker held (arena.leases)
        ScoringChunk.objects.filter(pk__in=pending).update(status=ScoringChunk.Status.PENDING, error="", heartbeat_at=None)
    if pending:
        _enqueue_chunks(run=run, chunk_ids=pending)
    else:
        _enqueue_finalize(run_id=run.pk)
    run.refresh_from_db()
    return run


def scoring_run_cancel(*, run: ScoringRun, user) -> ScoringRun:
    """Stop a run: chunks not yet started are skipped by the workers; partial outputs are removed."""
    if not run_can_manage(run=run, user=user):
        raise Forbidden("only the run's creator or the dataset's owner may cancel this run")
    updated = ScoringRun.objects.filter(pk=run.pk, status__in=[*ScoringRun.ACTIVE, ScoringRun.Status.FAILED]).update(
        status=ScoringRun.Status.CANCELLED, finished_at=timezone.now()
    )
    if not updated:
        raise Conflict(f"scoring run {run.pk} is {run.status}; only a queued, running or failed run can be cancelled")
    for name in run.chunks.exclude(output_name="").values_list("output_name", flat=True):
        delete_quietly(name)
    run.refresh_from_db()
    return run

