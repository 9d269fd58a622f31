"""Merge a run's chunk outputs into one scores Parquet per run, streaming window by window."""

from __future__ import annotations

import pyarrow as pa

from arena.storage import iter_batches, open_parquet
from scoring.score_files import ScoresWriter, norm_column, raw_column


class _RowStream:
    """Read a Parquet file front to back, ``take(n)`` rows at a time."""

    def __init__(self, name: str) -> None:
        self.name = name
        self._batches = iter_batches(name, batch_size=10_000)
        self._buffer: pa.Table | None = None

    def take(self, n: int) -> pa.Table:
        parts, need = [], n
        while need > 0:
            if self._buffer is None or self._buffer.num_rows == 0:
                try:
                    self._buffer = pa.Table.from_batches([next(self._batches)])
                except StopIteration:
                    raise RuntimeError(f"score file {self.name} ends {need} rows early") from None
            part = self._buffer.slice(0, need)
            parts.append(part)
            self._buffer = self._buffer.slice(part.num_rows)
            need -= part.num_rows
        return pa.concat_tables(parts)


def merge_scores(
    *,
    out_name: str,
    columns: list[str],
    sample_chunks: list[tuple[int, int, str]],
    full_files: dict[str, str],
    rows_total: int,
    window_rows: int,
    metadata: dict[str, str] | None = None,
) -> str:
    """Write ``out_name`` with idx and the raw/normalised columns of ``columns`` in idx order.

    ``sample_chunks``: (start, end, storage name) of the sample-scope chunks, covering [0, rows_total)
    without gaps; ``full_files``: scorer name -> storage name of a whole-dataset score file (idx order).
    Memory stays at one window (a chunk, or ``window_rows``) of score columns.
    """
    if sample_chunks:
        windows = sorted(sample_chunks)
        expected = 0
        for start, end, _ in windows:
            if start != expected:
                raise RuntimeError(f"sample chunks leave rows {expected}-{start} unscored")
            expected = end
        if expected != rows_total:
            raise RuntimeError(f"sample chunks cover {expected} rows, the dataset has {rows_total}")
    else:
        windows = [(s, min(s + window_rows, rows_total), "") for s in range(0, rows_total, window_rows)]
    streams = {name: _RowStream(path) for name, path in full_files.items()}
    writer = ScoresWriter(name=out_name, scorers=columns, metadata=metadata)
    try:
        for start, end, chunk_name in windows:
            parts: dict[str, pa.Array] = {}
            idx = None
            if chunk_name:
                table = open_parquet(chunk_name).read()
                if table.num_rows != end - start:
                    raise RuntimeError(f"chunk file {chunk_name} has {table.num_rows} rows, expected {end - start}")
                idx = table.column("idx")
                for name in table.column_names:
                    parts[name] = table.column(name)
            for scorer, stream in streams.items():
                table = stream.take(end - start)
                if idx is None:
                    idx = table.column("idx")
                elif not table.column("idx").equals(idx):
                    raise RuntimeError(f"rows {start}-{end} of {stream.name} do not line up with the other scores")
                parts[raw_column(scorer)] = table.column(raw_column(scorer))
                parts[norm_column(scorer)] = table.column(norm_column(scorer))
            parts["idx"] = idx
            writer.write_table(pa.table(parts))
        if writer.rows != rows_total:
            raise RuntimeError(f"merged {writer.rows} rows, the dataset has {rows_total}")
        return writer.commit()
    except BaseException:
        writer.abort()
        raise
