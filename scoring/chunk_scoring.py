"""Run scorers over one chunk and write its output. Called by ``scoring.chunk_services.scoring_chunk_execute``.

Each function writes to a local temp file and stores the result under the chunk's fixed output name
in one step, so re-running a chunk (a redelivered task, a resume) overwrites the same file: no sample
is scored twice in the merged output, and none is lost.
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Iterator, Sequence

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from arena.storage import iter_batches, store_file, temporary_path
from scoring.sample_reader import iter_sample_batches
from scoring.score_files import ScoresWriter, norm_column, raw_column
from scoring.scorers.base import SampleText, Scorer


def checked_raw(scorer: Scorer, values, expected: int) -> list[float | None]:
    """A scorer's batch output as floats/None, or a clear error: wrong length or a non-number is a scorer bug."""
    name = scorer.meta.name
    if values is None or len(values) != expected:
        got = "None" if values is None else len(values)
        raise RuntimeError(f"scorer {name!r} returned {got} scores for {expected} samples")
    out: list[float | None] = []
    for value in values:
        if value is None:
            out.append(None)
            continue
        if isinstance(value, bool) or not isinstance(value, (int, float, np.floating, np.integer)):
            raise RuntimeError(f"scorer {name!r} returned a non-number score {value!r}")
        value = float(value)
        out.append(None if math.isnan(value) else value)
    return out


def score_sample_range(
    *, samples_file: str, start: int, end: int, scorers: list[Scorer], output_name: str, batch_rows: int
) -> dict[str, float]:
    """Score rows [start, end) with sample-scope scorers; returns seconds per scorer."""
    names = [s.meta.name for s in scorers]
    timings = dict.fromkeys(names, 0.0)
    writer = ScoresWriter(name=output_name, scorers=names)
    try:
        for batch in iter_sample_batches(samples_file, start=start, end=end, batch_size=batch_rows):
            columns: dict[str, list] = {"idx": [s.idx for s in batch]}
            for scorer in scorers:
                began = time.perf_counter()
                raw = checked_raw(scorer, scorer.score_batch(batch), len(batch))
                timings[scorer.meta.name] += time.perf_counter() - began
                columns[raw_column(scorer.meta.name)] = raw
                columns[norm_column(scorer.meta.name)] = [scorer.normalise(v) for v in raw]
            writer.write(columns)
        if writer.rows != end - start:
            raise RuntimeError(
                f"read {writer.rows} samples for rows {start}-{end}; the samples file changed or is short"
            )
        writer.commit()
    except BaseException:
        writer.abort()
        raise
    return timings


def _whole_file(samples_file: str, batch_rows: int) -> Iterator[Sequence[SampleText]]:
    yield from iter_sample_batches(samples_file, batch_size=batch_rows)


def score_dataset_scope(
    *, samples_file: str, rows_total: int, scorer: Scorer, output_name: str, batch_rows: int
) -> dict[str, float]:
    """A scope="dataset" scorer over the whole file."""
    began = time.perf_counter()
    pairs = scorer.score_dataset_samples(_whole_file(samples_file, batch_rows))
    write_dataset_scores(pairs=pairs, rows_total=rows_total, scorer=scorer, output_name=output_name)
    return {scorer.meta.name: time.perf_counter() - began}


def write_dataset_scores(
    *, pairs: Iterator[tuple[int, float | None]], rows_total: int, scorer: Scorer, output_name: str
) -> None:
    """Store a dataset-scope scorer's (idx, raw) pairs, which may come in any order: they are collected in a
    disk-backed array (8 bytes per sample), checked (every sample exactly once), then written in idx order."""
    name = scorer.meta.name
    with temporary_path(suffix=".f64") as values_path, temporary_path(suffix=".seen") as seen_path:
        values = np.memmap(values_path, dtype=np.float64, mode="w+", shape=(max(rows_total, 1),))
        seen = np.memmap(seen_path, dtype=np.bool_, mode="w+", shape=(max(rows_total, 1),))
        values[:] = np.nan
        for idx, raw in pairs:
            if not 0 <= idx < rows_total:
                raise RuntimeError(f"scorer {name!r} yielded idx {idx}, outside 0-{rows_total - 1}")
            if seen[idx]:
                raise RuntimeError(f"scorer {name!r} yielded idx {idx} twice")
            seen[idx] = True
            (value,) = checked_raw(scorer, [raw], 1)
            values[idx] = np.nan if value is None else value
        missing = rows_total - int(seen[:rows_total].sum())
        if missing:
            raise RuntimeError(f"scorer {name!r} gave no score for {missing} of {rows_total} samples")
        writer = ScoresWriter(name=output_name, scorers=[name])
        try:
            for lo in range(0, rows_total, 10_000):
                hi = min(lo + 10_000, rows_total)
                raw = [None if math.isnan(v) else float(v) for v in values[lo:hi]]
                writer.write(
                    {
                        "idx": list(range(lo, hi)),
                        raw_column(name): raw,
                        norm_column(name): [scorer.normalise(v) for v in raw],
                    }
                )
            writer.commit()
        except BaseException:
            writer.abort()
            raise
        del values, seen


# --- vector_chunks scorers: per-chunk vectors, then a streamed reduction at finalize ------------------------------
def write_vector_range(
    *, samples_file: str, start: int, end: int, scorer: Scorer, output_name: str, batch_rows: int
) -> dict[str, float]:
    """Rows [start, end): ``scorer.embed_batch`` vectors to a Parquet file (idx, vector) stored atomically."""
    began = time.perf_counter()
    rows = 0
    with temporary_path(suffix=".parquet") as path:
        writer = None
        try:
            for batch in iter_sample_batches(samples_file, start=start, end=end, batch_size=batch_rows):
                vectors = np.ascontiguousarray(scorer.embed_batch(batch), dtype=np.float32)
                if vectors.ndim != 2 or vectors.shape[0] != len(batch):
                    raise RuntimeError(f"scorer {scorer.meta.name!r} returned vectors of shape {vectors.shape} "
                                       f"for {len(batch)} samples")
                table = pa.table({
                    "idx": pa.array([s.idx for s in batch], pa.int64()),
                    "vector": pa.FixedSizeListArray.from_arrays(pa.array(vectors.reshape(-1)), vectors.shape[1]),
                })
                writer = writer or pq.ParquetWriter(path, table.schema, compression="zstd")
                writer.write_table(table)
                rows += len(batch)
        finally:
            if writer is not None:
                writer.close()
        if rows != end - start:
            raise RuntimeError(f"read {rows} samples for rows {start}-{end}; the samples file changed or is short")
        store_file(local_path=path, name=output_name)
    return {scorer.meta.name: time.perf_counter() - began}


def vector_blocks(names: Sequence[str]) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """(idx, float32 vectors) blocks from vector chunk files, in the given order."""
    for name in names:
        for batch in iter_batches(name, batch_size=4096):
            vectors = batch.column("vector")
            dim = vectors.type.list_size
            yield (
                batch.column("idx").to_numpy(),
                vectors.values.to_numpy(zero_copy_only=False).reshape(-1, dim),
            )


def reduce_vectors(
    *, scorer: Scorer, vector_files: Sequence[str], rows_total: int, output_name: str
) -> tuple[dict, dict[str, float]]:
    """The two streamed passes of a vector_chunks scorer: its set result, and its per-sample score file."""
    began = time.perf_counter()
    result = scorer.fit_vectors(vector_blocks(vector_files))
    if not isinstance(result, dict) or "value" not in result:
        raise RuntimeError(f"scorer {scorer.meta.name!r}: fit_vectors must return a dict with a 'value'")
    (value,) = checked_raw(scorer, [result["value"]], 1)
    result = json.loads(json.dumps({**result, "value": value}))
    write_dataset_scores(
        pairs=scorer.vector_scores(vector_blocks(vector_files)), rows_total=rows_total, scorer=scorer,
        output_name=output_name,
    )
    return result, {scorer.meta.name: time.perf_counter() - began}


def score_setwise(*, samples_file: str, scorer: Scorer, batch_rows: int) -> tuple[dict, dict[str, float]]:
    """A scope="setwise" scorer: one result for the dataset, ``{"value": number, ...details}`` (JSON-safe)."""
    name = scorer.meta.name
    began = time.perf_counter()
    result = scorer.score_set(_whole_file(samples_file, batch_rows))
    seconds = time.perf_counter() - began
    if not isinstance(result, dict) or "value" not in result:
        raise RuntimeError(f"setwise scorer {name!r} must return a dict with a 'value', got {type(result).__name__}")
    (value,) = checked_raw(scorer, [result["value"]], 1)
    try:
        result = json.loads(json.dumps({**result, "value": value}))
    except (TypeError, ValueError) as exc:
        raise RuntimeError(f"setwise scorer {name!r} returned a result that is not JSON-serialisable: {exc}") from None
    return result, {name: seconds}
