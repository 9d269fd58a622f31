"""The file formats Arena ingests: one module per format, registered by name, like the scorers.

Each module in this package defines one :class:`FileFormat` decorated with ``@register``: its ``name`` (stored on
the dataset, accepted by the API, forms and CLI), how errors name it (``label``), the file name extensions that
announce it, its magic bytes when it has some, and its record reader (``reader``: a function of a decompressed
byte stream; ``None`` for a format read from its path, like Parquet). Every list of file formats derives from this
registry (``FILE_FORMATS``, extension detection, form and API choices): adding a format is adding one module here.
"""
from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any, ClassVar

from arena.plugins import PluginRegistry


class FileFormat:
    name: ClassVar[str]
    label: ClassVar[str]  # "JSONL", "a JSON array", ...
    extensions: ClassVar[tuple[str, ...]]
    magic: ClassVar[bytes] = b""
    order: ClassVar[int]

    def reader(self) -> Callable[..., Iterator[Any]] | None:
        """The stream reader: ``reader(stream, *, max_record_bytes, skip_bad, max_depth)`` yielding records."""
        return None


_FORMATS: PluginRegistry[FileFormat] = PluginRegistry(kind="file format", package=__name__, path=__path__)
register = _FORMATS.register
file_formats = _FORMATS.all
file_format_names = _FORMATS.names
file_format_get = _FORMATS.get


def extension_formats() -> dict[str, str]:
    """File name extension (".jsonl") -> format name."""
    return {ext: f.name for f in file_formats() for ext in f.extensions}
