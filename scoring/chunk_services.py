"""The worker side of the scoring engine: execute a chunk, finalize a run (merge chunk outputs, aggregates).

Each chunk writes its own Parquet output atomically under a fixed name and only then is marked done, so a
redelivered or resumed chunk redoes exactly that chunk. When the last chunk is done the run is finalized: chunk
outputs are merged into one scores file per run and aggregates are written. Called by ``scoring.tasks``.
"""
from __future__ import annotations

import json
import logging
import time

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from arena.errors import ArenaError, InvalidInput
from arena.queueing import enqueue_on_commit
from arena.models import Dataset
from arena.resilience import TRANSIENT_INFRA_ERRORS
from arena.storage import delete_quietly, reduced_output_name, run_scores_name
from scoring import chunk_scoring
from scoring.aggregate_stats import column_stats
from scoring.merge import merge_scores
from scoring.models import ScoreAggregate, ScoringChunk, ScoringRun
from scoring.scorers.base import Scorer, build_scorer

logger = logging.getLogger(__name__)

SAMPLE_GROUP = "sample"


def _build(name: str, config: dict) -> Scorer:
    """Build a scorer, turning any set-up failure into a clear InvalidInput (never a silent fallback)."""
    try:
        return build_scorer(name, config=config)
    except ArenaError:
        raise
    except Exception as exc:  # e.g. a model path that does not exist
        raise InvalidInput(f"scorer {name!r} could not be set up: {type(exc).__name__}: {exc}") from None


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

