"""JSON: one array of objects, parsed incrementally."""
from __future__ import annotations

from arena.ingest.file_formats import FileFormat, register


@register
class JsonArray(FileFormat):
    name = "json"
    label = "a JSON array"
    extensions = (".json",)
    order = 20

    def reader(self):
        from arena.ingest.readers import iter_json_array

        return iter_json_array
