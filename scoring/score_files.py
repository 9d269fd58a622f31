"""The layout of score files in storage, and writing them atomically.

A scores Parquet has ``idx`` (int64) and, per scorer, ``<name>`` (raw, float64) and
``<name>__norm`` (normalised to [0, 1] by the scorer's declared range, float64); null = undefined.
The merged file of a run carries Parquet key-value metadata ``arena.scorers`` (the run's scorer specs:
version, config, config hash, model identity), ``arena.run`` and ``arena.dataset``.
"""

from __future__ import annotations

import pyarrow as pa
import pyarrow.parquet as pq

from arena.storage import store_file, temporary_path

NORM_SUFFIX = "__norm"


def raw_column(scorer: str) -> str:
    return scorer


def norm_column(scorer: str) -> str:
    return scorer + NORM_SUFFIX


def scores_schema(scorers: list[str]) -> pa.Schema:
    fields = [pa.field("idx", pa.int64())]
    for name in scorers:
        fields += [pa.field(raw_column(name), pa.float64()), pa.field(norm_column(name), pa.float64())]
    return pa.schema(fields)


class ScoresWriter:
    """Write a scores Parquet to a local temp file batch by batch, then store it under its name in one step,
    so a reader (or a re-run of the same chunk) never sees a half-written file."""

    def __init__(self, *, name: str, scorers: list[str], metadata: dict[str, str] | None = None) -> None:
        self.name = name
        self.schema = scores_schema(scorers)
        if metadata:  # provenance travels with the file: scorer versions, config hashes, model identity
            self.schema = self.schema.with_metadata(metadata)
        self._tmp = temporary_path(suffix=".parquet")
        self._path = self._tmp.__enter__()
        self._writer = pq.ParquetWriter(self._path, self.schema, compression="zstd")
        self.rows = 0

    def write(self, columns: dict[str, list]) -> None:
        table = pa.Table.from_pydict(columns, schema=self.schema)
        self._writer.write_table(table)
        self.rows += table.num_rows

    def write_table(self, table: pa.Table) -> None:
        self._writer.write_table(table.select(self.schema.names).cast(self.schema))
        self.rows += table.num_rows

    def commit(self) -> str:
        self._writer.close()
        try:
            return store_file(local_path=self._path, name=self.name)
        finally:
            self._tmp.__exit__(None, None, None)

    def abort(self) -> None:
        try:
            self._writer.close()
        finally:
            self._tmp.__exit__(None, None, None)
