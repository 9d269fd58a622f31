"""Writes of the scoring engine: start, execute, finalize, resume and cancel runs; export a filtered subset.

A run is split into chunks (rows [start, end) x a group of scorers). Each chunk is one Celery task on the
``scoring`` queue; it writes its own Parquet output atomically under a fixed name and only then is marked
done, so a redelivered or resumed chunk redoes exactly that chunk. When the last chunk is done the run is
finalized: chunk outputs are merged into one scores file per run and aggregates are written.
"""

from __future__ import annotations

import json
import logging
import time

import numpy as np
from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from arena.errors import ArenaError, Conflict, Forbidden, InvalidInput, NotFound
from arena.queueing import enqueue_on_commit
from arena.exports import samples_export_lines
from arena.models import Dataset
from arena.resilience import TRANSIENT_INFRA_ERRORS
from arena.storage import (
    chunk_output_name,
    delete_quietly,
    iter_batches,
    open_parquet,
    reduced_output_name,
    run_scores_name,
    temporary_path,
)
from scoring import chunk_scoring
from scoring.aggregate_stats import column_stats
from scoring.merge import merge_scores
from scoring.models import ScoreAggregate, ScoringChunk, ScoringRun
from scoring.score_filters import ScoreFilter, filter_mask, parse_filters
from scoring.scorers.base import Scorer, build_scorer

logger = logging.getLogger(__name__)

SAMPLE_GROUP = "sample"
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


def _build(name: str, config: dict) -> Scorer:
    """Build a scorer, turning any set-up failure into a clear InvalidInput (never a silent fallback)."""
    try:
        return build_scorer(name, config=config)
    except ArenaError:
        raise
    except Exception as exc:  # e.g. a model path that does not exist
        raise InvalidInput(f"scorer {name!r} could not be set up: {type(exc).__name__}: {exc}") from None


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


def _can_see(*, dataset: Dataset, user) -> bool:
    return dataset.is_public or (user is not None and (user.pk == dataset.owner_id or user.is_staff))


def _can_manage(*, run: ScoringRun, user) -> bool:
    return (
        user is not None
        and user.is_authenticated
        and (user.is_staff or user.pk in (run.created_by_id, run.dataset.owner_id))
    )


def scoring_run_start(*, dataset: Dataset, scorers: list, user, chunk_rows: int | None = None) -> ScoringRun:
    """Validate the scorer specs and the dataset, record the run and its chunks, and enqueue the chunks.

    Everything is checked before anything is written: unknown scorer, bad config, duplicate scorer,
    dataset not ready -> InvalidInput with the reason, and no run.
    """
    if user is None or not user.is_authenticated:
        raise Forbidden("log in to start a scoring run")
    if not _can_see(dataset=dataset, user=user):
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


# --- executing a chunk --------------------------------------------------------------------------------


def scoring_chunk_execute(*, chunk_id: int) -> ScoringChunk | None:
    """Score one chunk. Idempotent: a done chunk, or a chunk of a run that is no longer active, is skipped."""
    chunk = ScoringChunk.objects.select_related("run", "run__dataset").filter(pk=chunk_id).first()
    if chunk is None:
        return None  # the run was deleted meanwhile
    run = chunk.run
    if chunk.status == ScoringChunk.Status.DONE or run.status not in (
        ScoringRun.Status.QUEUED,
        ScoringRun.Status.RUNNING,
    ):
        return chunk
    now = timezone.now()
    ScoringChunk.objects.filter(pk=chunk.pk).update(
        status=ScoringChunk.Status.RUNNING, attempts=F("attempts") + 1, started_at=now, finished_at=None, error=""
    )
    ScoringRun.objects.filter(pk=run.pk, status=ScoringRun.Status.QUEUED).update(
        status=ScoringRun.Status.RUNNING, started_at=now
    )
    began = time.perf_counter()
    try:
        result, timings = _score_chunk(chunk=chunk, run=run)
    except TRANSIENT_INFRA_ERRORS:
        raise  # the database or broker is briefly gone: the task retries this chunk with backoff
    except Exception as exc:
        logger.exception("scoring chunk %s failed", chunk.pk)
        message = f"chunk {chunk.group} rows {chunk.start}-{chunk.end}: {type(exc).__name__}: {exc}"
        ScoringChunk.objects.filter(pk=chunk.pk).update(
            status=ScoringChunk.Status.FAILED, error=message, finished_at=timezone.now()
        )
        ScoringRun.objects.filter(pk=run.pk, status__in=ScoringRun.ACTIVE).update(
            status=ScoringRun.Status.FAILED, error=message, finished_at=timezone.now()
        )
        chunk.refresh_from_db()
        return chunk
    ScoringChunk.objects.filter(pk=chunk.pk).update(
        status=ScoringChunk.Status.DONE,
        result=result,
        timings=timings,
        finished_at=timezone.now(),
        seconds=round(time.perf_counter() - began, 4),
    )
    _after_chunk_done(run_id=run.pk)
    chunk.refresh_from_db()
    return chunk


def _build_for_run(*, run: ScoringRun, name: str) -> Scorer:
    spec = next(s for s in run.scorers if s["name"] == name)
    scorer = _build(name, spec["config"])
    if scorer.config_hash() != spec["config_hash"]:
        scorer.close()
        raise RuntimeError(
            f"scorer {name!r} changed since the run started (config hash {scorer.config_hash()} != "
            f"{spec['config_hash']}: new version or model); start a new run"
        )
    return scorer


def _score_chunk(*, chunk: ScoringChunk, run: ScoringRun) -> tuple[dict, dict]:
    samples_file = run.dataset.samples_file
    batch_rows = settings.ARENA_SCORING_BATCH_ROWS
    scorers: list[Scorer] = []
    try:
        for name in chunk.scorers:
            scorers.append(_build_for_run(run=run, name=name))
        if chunk.group == SAMPLE_GROUP:
            timings = chunk_scoring.score_sample_range(
                samples_file=samples_file,
                start=chunk.start,
                end=chunk.end,
                scorers=scorers,
                output_name=chunk.output_name,
                batch_rows=batch_rows,
            )
            return {}, timings
        (scorer,) = scorers
        if scorer.vector_chunks:
            timings = chunk_scoring.write_vector_range(
                samples_file=samples_file,
                start=chunk.start,
                end=chunk.end,
                scorer=scorer,
                output_name=chunk.output_name,
                batch_rows=batch_rows,
            )
            return {}, timings
        if scorer.meta.scope == "setwise":
            return chunk_scoring.score_setwise(samples_file=samples_file, scorer=scorer, batch_rows=batch_rows)
        timings = chunk_scoring.score_dataset_scope(
            samples_file=samples_file,
            rows_total=run.rows_total,
            scorer=scorer,
            output_name=chunk.output_name,
            batch_rows=batch_rows,
        )
        return {}, timings
    finally:
        for scorer in scorers:
            scorer.close()


def _after_chunk_done(*, run_id: int) -> None:
    """Update progress; the chunk that completes the run moves it to finalizing and enqueues the merge (once:
    the run row is locked, so two chunks finishing together cannot both do it)."""
    with transaction.atomic():
        run = ScoringRun.objects.select_for_update().get(pk=run_id)
        rows = list(run.chunks.values_list("status", "start", "end"))
        total = sum(end - start for _, start, end in rows)
        done = sum(end - start for status, start, end in rows if status == ScoringChunk.Status.DONE)
        run.progress = round(done / total, 4) if total else 1.0
        finalize = done == total and run.status == ScoringRun.Status.RUNNING
        if finalize:
            run.status = ScoringRun.Status.FINALIZING
        run.save(update_fields=["progress", "status"])
    if finalize:
        _enqueue_finalize(run_id=run_id)


def _enqueue_finalize(*, run_id: int) -> None:
    from scoring.tasks import scoring_finalize_task

    enqueue_on_commit(task=scoring_finalize_task, args=[run_id])


# --- finalizing -----------------------------------------------------------------------------------------


def scoring_run_finalize(*, run_id: int) -> ScoringRun | None:
    """Merge chunk outputs into the run's scores file and write aggregates. Idempotent: only a run in
    ``finalizing`` is processed, and a re-run overwrites the same file and replaces this run's aggregates."""
    run = ScoringRun.objects.select_related("dataset").filter(pk=run_id).first()
    if run is None or run.status != ScoringRun.Status.FINALIZING:
        return run
    began = time.perf_counter()
    chunks = list(run.chunks.all())
    reduced: dict[str, str] = {}
    try:
        reduced_results, reduce_timings = _reduce_vector_scorers(run=run, chunks=chunks, reduced=reduced)
        scores_file = _merge_run(run=run, chunks=chunks, reduced=reduced)
        stats = {}
        for spec in run.scorers:
            if spec["scope"] != "setwise":
                stats[spec["name"]] = column_stats(scores_file=scores_file, scorer=spec["name"])
    except TRANSIENT_INFRA_ERRORS:
        raise
    except Exception as exc:
        logger.exception("finalizing scoring run %s failed", run.pk)
        for name in reduced.values():
            delete_quietly(name)
        ScoringRun.objects.filter(pk=run.pk).update(
            status=ScoringRun.Status.FAILED, error=f"finalize: {type(exc).__name__}: {exc}", finished_at=timezone.now()
        )
        run.refresh_from_db()
        return run
    timings: dict[str, float] = {}
    for chunk in chunks:
        for name, seconds in chunk.timings.items():
            timings[name] = round(timings.get(name, 0.0) + seconds, 4)
    for name, seconds in reduce_timings.items():
        timings[name] = round(timings.get(name, 0.0) + seconds, 4)
    timings["finalize"] = round(time.perf_counter() - began, 4)
    setwise_results = {c.group: c.result for c in chunks if c.group != SAMPLE_GROUP and not c.output_name}
    setwise_results.update(reduced_results)
    with transaction.atomic():
        # one finalize at a time per dataset, so two runs never both hold the "current" aggregate of a scorer
        Dataset.objects.select_for_update().filter(pk=run.dataset_id).first()
        ScoreAggregate.objects.filter(run=run).delete()
        for spec in run.scorers:
            _record_aggregate(
                run=run, spec=spec, stats=stats.get(spec["name"]), setwise=setwise_results.get(spec["name"])
            )
        ScoringRun.objects.filter(pk=run.pk).update(
            status=ScoringRun.Status.SUCCEEDED,
            scores_file=scores_file,
            progress=1.0,
            timings=timings,
            finished_at=timezone.now(),
            error="",
        )
    for chunk in chunks:  # merged: the per-chunk files are no longer needed
        if chunk.output_name:
            delete_quietly(chunk.output_name)
    for name in reduced.values():
        delete_quietly(name)
    run.refresh_from_db()
    return run


def _reduce_vector_scorers(
    *, run: ScoringRun, chunks: list[ScoringChunk], reduced: dict[str, str]
) -> tuple[dict[str, dict], dict[str, float]]:
    """For each vector_chunks scorer: stream its vector chunks (in row order) into its set result and a per-sample
    score file; ``reduced`` receives scorer name -> that file (filled as they are written, for clean-up)."""
    results: dict[str, dict] = {}
    timings: dict[str, float] = {}
    for spec in run.scorers:
        if not spec.get("vector_chunks"):
            continue
        name = spec["name"]
        files = [c.output_name for c in sorted(chunks, key=lambda c: c.start) if c.group == name]
        output_name = reduced_output_name(dataset_id=run.dataset_id, run_id=run.pk, group=name)
        scorer = _build_for_run(run=run, name=name)
        try:
            reduced[name] = output_name
            results[name], seconds = chunk_scoring.reduce_vectors(
                scorer=scorer, vector_files=files, rows_total=run.rows_total, output_name=output_name
            )
        finally:
            scorer.close()
        timings.update(seconds)
    return results, timings


def _merge_run(*, run: ScoringRun, chunks: list[ScoringChunk], reduced: dict[str, str]) -> str:
    columns = [s["name"] for s in run.scorers if s["scope"] != "setwise"]
    if not columns:
        return ""
    vector_groups = {s["name"] for s in run.scorers if s.get("vector_chunks")}
    sample_chunks = [(c.start, c.end, c.output_name) for c in chunks if c.group == SAMPLE_GROUP]
    full_files = {
        c.group: c.output_name
        for c in chunks
        if c.group != SAMPLE_GROUP and c.group not in vector_groups and c.output_name
    }
    full_files.update(reduced)
    return merge_scores(
        out_name=run_scores_name(dataset_id=run.dataset_id, run_id=run.pk),
        columns=columns,
        sample_chunks=sample_chunks,
        full_files=full_files,
        rows_total=run.rows_total,
        window_rows=run.chunk_rows,
        metadata={
            "arena.scorers": json.dumps(run.scorers, sort_keys=True),
            "arena.run": str(run.pk),
            "arena.dataset": run.dataset.slug,
        },
    )


def _record_aggregate(*, run: ScoringRun, spec: dict, stats, setwise: dict | None) -> ScoreAggregate:
    ScoreAggregate.objects.filter(
        dataset=run.dataset, scorer=spec["name"], config_hash=spec["config_hash"], is_current=True
    ).update(is_current=False)
    fields = dict(
        dataset=run.dataset,
        run=run,
        scorer=spec["name"],
        scorer_version=spec["version"],
        config=spec["config"],
        config_hash=spec["config_hash"],
        model_identity=spec["model_identity"],
        axis=spec["axis"],
        reads=spec["reads"],
        scope=spec["scope"],
        higher_is_better=spec["higher_is_better"],
    )
    if setwise is not None:  # a setwise scorer, or a vector_chunks scorer's dataset-level value
        fields.update(
            set_value=setwise["value"], count=run.rows_total, details={k: v for k, v in setwise.items() if k != "value"}
        )
    if stats is not None:
        fields.update(
            count=stats.count,
            null_count=stats.null_count,
            mean=stats.mean,
            median=stats.median,
            p10=stats.p10,
            p90=stats.p90,
            std=stats.std,
            raw_min=stats.raw_min,
            raw_max=stats.raw_max,
            norm_mean=stats.norm_mean,
            norm_median=stats.norm_median,
            histogram=stats.histogram,
        )
    return ScoreAggregate.objects.create(**fields)


# --- resume and cancel -----------------------------------------------------------------------------------


def scoring_run_resume(*, run: ScoringRun, user=None) -> ScoringRun:
    """Re-enqueue only the chunks that are not done (pending, running on a dead worker, or failed); if every
    chunk is done but the merge did not finish, re-enqueue the merge."""
    if user is not None and not _can_manage(run=run, user=user):
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
    if not _can_manage(run=run, user=user):
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


# --- exporting a filtered subset as a new dataset ---------------------------------------------------------


def _selected_mask(*, run: ScoringRun, filters: list[ScoreFilter]) -> np.ndarray:
    """One byte per sample: the samples that pass every filter, from a streaming pass over the scores file."""
    mask = np.zeros(run.rows_total, dtype=np.bool_)
    columns = ["idx", *dict.fromkeys(f.column for f in filters)]
    for batch in iter_batches(run.scores_file, columns=columns, batch_size=20_000):
        passed = filter_mask(batch, filters).to_numpy(zero_copy_only=False)
        mask[batch.column(0).to_numpy()[passed]] = True
    return mask


def scores_export_subset(
    *,
    dataset: Dataset,
    user,
    name: str,
    filters,
    run: ScoringRun | None = None,
    visibility: str = Dataset.Visibility.PRIVATE,
    ingest_now: bool = False,
) -> Dataset:
    """Register the samples of ``dataset`` that pass ``filters`` as a new dataset owned by ``user``, in the same
    domains, with a declared "subset" lineage edge from ``dataset`` whose evidence states the filter."""
    from arena.services import dataset_register
    from lineage.models import LineageEdge
    from lineage.services import edge_record
    from scoring.selectors import scores_run_for

    if user is None or not user.is_authenticated:
        raise Forbidden("log in to export a subset")
    if not _can_see(dataset=dataset, user=user):
        raise NotFound(f"no dataset {dataset.slug!r}")
    parsed = parse_filters(filters)
    if not parsed:
        raise InvalidInput('give at least one filter, e.g. ["mtld:0.5:"]; an unfiltered export would copy the dataset')
    run = scores_run_for(dataset=dataset, scorers=[f.scorer for f in parsed], run_id=run.pk if run else None)
    mask = _selected_mask(run=run, filters=parsed)
    selected = int(mask.sum())
    if selected == 0:
        raise InvalidInput(f"no sample of {dataset.slug!r} passes {' and '.join(f.describe() for f in parsed)}")
    where = " and ".join(f.describe() for f in parsed)
    with temporary_path(suffix=".jsonl") as path:
        # The registry's own export writes the subset (system prompts, tool calls, weights and all), so the
        # child re-ingests to exactly the selected samples of the parent.
        with open(path, "wb") as out:
            for chunk in samples_export_lines(samples_file=dataset.samples_file, export_format="messages", keep=mask):
                out.write(chunk)
        with open(path, "rb") as upload:
            child = dataset_register(
                owner=user,
                upload=upload,
                filename=f"{dataset.slug}-subset.jsonl",
                name=name,
                visibility=visibility,
                domains=[domain.name for domain in dataset.domains.all()],  # a subset covers its parent's domains
                description=f"Filtered from {dataset.slug} where {where} (scoring run {run.pk}).",
                ingest_now=ingest_now,
            )
    edge_record(
        child=child,
        parent=dataset,
        relation=LineageEdge.Relation.SUBSET,
        origin=LineageEdge.Origin.DECLARED,
        evidence=f"filtered from {dataset.slug} where {where}",
        details={
            "filters": [f.as_text() for f in parsed],
            "scoring_run": run.pk,
            "scores_file": run.scores_file,
            "selected": selected,
            "parent_samples": run.rows_total,
            "scorers": {
                s["name"]: {"version": s["version"], "config_hash": s["config_hash"]}
                for s in run.scorers
                if s["name"] in {f.scorer for f in parsed}
            },
        },
        created_by=user,
    )
    child.refresh_from_db()
    return child
