"""The file formats Arena ingests: one module per format, registered by name, like the scorers.

Each module in this package defines one :class:`FileFormat` decorated with ``@register``: its ``name`` (stored on
the dataset, accepted by the API, forms and CLI), how errors name it (``label``), the file name extensions that
announce it, its magic bytes when it has some, and its record reader (``reader``: a function of a decompressed
byte stream; ``None`` for a format read from its path, like Parquet). Every list of file formats derives from this
registry (``FILE_FORMATS``, extension detection, form and API choices): adding a format is adding one module here.
"""
from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable, Iterator
from typing import Any, ClassVar


class FileFormat:
    name: ClassVar[str]
    label: ClassVar[str]  # "JSONL", "a JSON array", ...
    extensions: ClassVar[tuple[str, ...]]
    magic: ClassVar[bytes] = b""
    order: ClassVar[int]

    def reader(self) -> Callable[..., Iterator[Any]] | None:
        """The stream reader: ``reader(stream, *, max_record_bytes, skip_bad, max_depth)`` yielding records."""
        return None


_REGISTRY: dict[str, FileFormat] = {}
_LOADED: list[bool] = []


def register(cls: type[FileFormat]) -> type[FileFormat]:
    if cls.name in _REGISTRY:
        raise ValueError(f"file format {cls.name!r} registered twice")
    _REGISTRY[cls.name] = cls()
    return cls


def _load() -> None:
    if _LOADED:
        return
    _LOADED.append(True)
    for module in pkgutil.iter_modules(__path__):
        if not module.name.startswith("_"):
            importlib.import_module(f"{__name__}.{module.name}")


def file_formats() -> list[FileFormat]:
    _load()
    return sorted(_REGISTRY.values(), key=lambda f: (f.order, f.name))


def file_format_names() -> tuple[str, ...]:
    return tuple(f.name for f in file_formats())


def file_format_get(name: str) -> FileFormat | None:
    _load()
    return _REGISTRY.get(name)


def extension_formats() -> dict[str, str]:
    """File name extension (".jsonl") -> format name."""
    return {ext: f.name for f in file_formats() for ext in f.extensions}
