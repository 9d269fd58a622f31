"""JSONL: one JSON object per line."""
from __future__ import annotations

from arena.ingest.file_formats import FileFormat, register


@register
class Jsonl(FileFormat):
    name = "jsonl"
    label = "JSONL"
    extensions = (".jsonl", ".ndjson")
    order = 10

    def reader(self):
        from arena.ingest.readers import iter_jsonl

        return iter_jsonl
