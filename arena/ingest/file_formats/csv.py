"""CSV: a header row, then one record per row (JSON-valued columns such as ``messages`` are decoded)."""
from __future__ import annotations

from arena.ingest.file_formats import FileFormat, register


@register
class Csv(FileFormat):
    name = "csv"
    label = "CSV"
    extensions = (".csv",)
    order = 40

    def reader(self):
        from arena.ingest.readers import iter_csv

        return iter_csv
