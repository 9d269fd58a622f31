"""Reads of scoring state, always scoped to what the viewer may see.

Other apps use ``dataset_score_summary`` (dashboards, dataset page) and ``scorer_catalog``.
"""

from __future__ import annotations

from django.db.models import QuerySet

from arena.errors import InvalidInput, NotFound
from arena.models import Dataset
from arena.selectors import dataset_visible_queryset
from arena.storage import iter_batches
from scoring.models import ScoreAggregate, ScoringChunk, ScoringRun
from scoring.score_files import norm_column, raw_column
from scoring.score_filters import ScoreFilter, filter_mask
from scoring.scorers.base import scorer_classes


def scorer_catalog() -> list[dict]:
    """Metadata of every registered scorer (what it measures, reads, range, direction, options)."""
    out = []
    for name, cls in scorer_classes().items():
        meta = cls.meta
        out.append(
            {
                "name": name,
                "axis": meta.axis,
                "reads": meta.reads,
                "raw_range": list(meta.raw_range),
                "transform": meta.transform,
                "higher_is_better": meta.higher_is_better,
                "needs_model": meta.needs_model,
                "scope": meta.scope,
                "version": meta.version,
                "unit": meta.unit,
                "description": meta.description,
                "options": dict(cls.default_config),
                "unavailable": cls.unavailable_reason(),
            }
        )
    return out


def scoring_run_list(*, viewer, dataset: Dataset | None = None, status: str = "") -> QuerySet[ScoringRun]:
    qs = ScoringRun.objects.filter(dataset__in=dataset_visible_queryset(viewer=viewer).values("pk")).select_related(
        "dataset", "created_by"
    )
    if dataset is not None:
        qs = qs.filter(dataset=dataset)
    if status:
        qs = qs.filter(status=status)
    return qs


def scoring_run_get(*, viewer, run_id: int) -> ScoringRun:
    """The run, or NotFound: a run on someone else's private dataset is indistinguishable from a missing one."""
    run = scoring_run_list(viewer=viewer).filter(pk=run_id).first()
    if run is None:
        raise NotFound(f"no scoring run {run_id}")
    return run


def scoring_run_waiting(*, run: ScoringRun) -> str:
    """What an active run waits for: its merge's note, else the first unfinished chunk's (broker or database)."""
    from arena.resilience import waiting_message

    message = waiting_message(run)
    if message:
        return message
    chunk = run.chunks.exclude(status=ScoringChunk.Status.DONE).only("pk", "waiting").first()
    return waiting_message(chunk) if chunk else ""


def scoring_run_chunk_counts(*, run: ScoringRun) -> dict:
    statuses = list(run.chunks.values_list("status", flat=True))
    return {
        "total": len(statuses),
        "done": statuses.count(ScoringChunk.Status.DONE),
        "running": statuses.count(ScoringChunk.Status.RUNNING),
        "failed": statuses.count(ScoringChunk.Status.FAILED),
    }


def dataset_score_aggregates(*, dataset: Dataset, history: bool = False) -> QuerySet[ScoreAggregate]:
    qs = ScoreAggregate.objects.filter(dataset=dataset).select_related("run")
    return qs if history else qs.filter(is_current=True)


def dataset_score_summary(*, dataset: Dataset) -> list[dict]:
    """The current aggregates of a dataset, one dict per scorer configuration (for dashboards and pages).

    ``mean``/``median``/``p10``/``p90`` are raw values; ``normalised`` holds the normalised mean and median;
    ``histogram`` counts normalised values in 20 bins over [0, 1]; ``value`` is a setwise scorer's result.
    """
    return [
        {
            "scorer": a.scorer,
            "axis": a.axis,
            "reads": a.reads,
            "scope": a.scope,
            "higher_is_better": a.higher_is_better,
            "version": a.scorer_version,
            "config": a.config,
            "config_hash": a.config_hash,
            "model_identity": a.model_identity,
            "count": a.count,
            "null_count": a.null_count,
            "mean": a.mean,
            "median": a.median,
            "p10": a.p10,
            "p90": a.p90,
            "std": a.std,
            "raw_min": a.raw_min,
            "raw_max": a.raw_max,
            "normalised": {"mean": a.norm_mean, "median": a.norm_median},
            "histogram": a.histogram,
            "value": a.set_value,
            "details": a.details,
            "run": a.run_id,
            "created_at": a.created_at.isoformat(),
        }
        for a in dataset_score_aggregates(dataset=dataset).order_by("scorer", "-created_at")
    ]


def scores_run_for(*, dataset: Dataset, scorers: list[str], run_id: int | None = None) -> ScoringRun:
    """The succeeded run whose scores file to read: ``run_id`` if given, else the newest one holding every
    scorer in ``scorers`` (per-sample scorers only)."""
    qs = ScoringRun.objects.filter(dataset=dataset, status=ScoringRun.Status.SUCCEEDED).exclude(scores_file="")
    if run_id is not None:
        run = qs.filter(pk=run_id).first()
        if run is None:
            raise NotFound(f"no succeeded scoring run {run_id} of dataset {dataset.slug!r}")
        candidates = [run]
    else:
        candidates = list(qs.order_by("-finished_at", "-id"))
        if not candidates:
            raise NotFound(f"dataset {dataset.slug!r} has no succeeded scoring run yet")
    wanted = list(dict.fromkeys(scorers))
    for run in candidates:
        columns = {s["name"] for s in run.scorers if s["scope"] != "setwise"}
        if set(wanted) <= columns:
            return run
    where = f"run {run_id}" if run_id is not None else "no succeeded run"
    raise InvalidInput(
        f"{where} of dataset {dataset.slug!r} has per-sample scores for all of {', '.join(wanted)}; "
        "start a run with these scorers"
    )


def dataset_sample_scores(
    *, dataset: Dataset, filters: list[ScoreFilter], offset: int, limit: int, run_id: int | None = None
) -> dict:
    """A page of per-sample scores passing ``filters``, from one streaming pass over the run's scores file
    (the count of all matches comes from the same pass; only the page is kept in memory)."""
    run = scores_run_for(dataset=dataset, scorers=[f.scorer for f in filters], run_id=run_id)
    names = [s["name"] for s in run.scorers if s["scope"] != "setwise"]
    results: list[dict] = []
    count = 0
    for batch in iter_batches(run.scores_file, batch_size=20_000):
        if filters:
            batch = batch.filter(filter_mask(batch, filters))
        n = batch.num_rows
        if count + n > offset and len(results) < limit:
            lo = max(offset - count, 0)
            page = batch.slice(lo, limit - len(results)).to_pydict()
            for i, idx in enumerate(page["idx"]):
                results.append(
                    {
                        "idx": idx,
                        "scores": {
                            name: {"raw": page[raw_column(name)][i], "norm": page[norm_column(name)][i]}
                            for name in names
                        },
                    }
                )
        count += n
    return {"run": run.pk, "count": count, "results": results}
