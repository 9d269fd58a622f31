"""Export the samples of a scored dataset that pass score filters as a new dataset."""
from __future__ import annotations

import logging

import numpy as np

from arena.errors import Forbidden, InvalidInput, NotFound
from arena.exports import samples_export_lines
from arena.permissions import dataset_can_view
from arena.models import Dataset
from arena.storage import iter_batches, temporary_path
from scoring.models import ScoringRun
from scoring.score_filters import ScoreFilter, filter_mask, parse_filters

logger = logging.getLogger(__name__)


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
    if not dataset_can_view(dataset=dataset, user=user):
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
            for chunk in samples_export_lines(
                samples_file=dataset.samples_file, export_format="messages", keep=mask, witnesses_first=False
            ):
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
