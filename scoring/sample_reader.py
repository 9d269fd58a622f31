"""Stream a dataset's normalised samples as ``SampleText`` batches, for a row range or the whole file."""

from __future__ import annotations

from collections.abc import Iterator

from arena.storage import iter_parquet_batches, open_parquet
from scoring.scorers.base import SampleText

SAMPLE_COLUMNS = ["idx", "instruction", "response", "system", "messages"]


def _to_samples(batch) -> list[SampleText]:
    columns = batch.to_pydict()
    return [
        SampleText(
            idx=idx,
            instruction=instruction or "",
            response=response or "",
            system=system or "",
            messages=tuple(messages or ()),
        )
        for idx, instruction, response, system, messages in zip(
            columns["idx"], columns["instruction"], columns["response"], columns["system"], columns["messages"]
        )
    ]


def iter_sample_batches(
    name: str, *, start: int = 0, end: int | None = None, batch_size: int = 500
) -> Iterator[list[SampleText]]:
    """Rows [start, end) of a stored sample Parquet, ``batch_size`` at a time, reading only the row groups
    that hold them (memory stays at one row group's batch whatever the file size)."""
    parquet = open_parquet(name)
    metadata = parquet.metadata
    end = metadata.num_rows if end is None else min(end, metadata.num_rows)
    groups, group_start, first_row = [], 0, None
    for group in range(metadata.num_row_groups):
        group_end = group_start + metadata.row_group(group).num_rows
        if group_end > start and group_start < end:
            groups.append(group)
            if first_row is None:
                first_row = group_start
        group_start = group_end
    if not groups:
        return
    position = first_row
    for batch in iter_parquet_batches(parquet, batch_size=batch_size, row_groups=groups, columns=SAMPLE_COLUMNS):
        batch_start, position = position, position + batch.num_rows
        lo, hi = max(start - batch_start, 0), min(end - batch_start, batch.num_rows)
        if hi <= 0:
            continue
        if lo >= batch.num_rows:
            continue
        yield _to_samples(batch.slice(lo, hi - lo))
        if position >= end:
            return
