"""Parquet: read by row batches from its path (never wrapped in gzip/zstd: it compresses its own pages)."""
from __future__ import annotations

from arena.ingest.file_formats import FileFormat, register


@register
class Parquet(FileFormat):
    name = "parquet"
    label = "Parquet"
    extensions = (".parquet",)
    magic = b"PAR1"
    order = 30
