"""The sample formats Arena reads (and exports): one module per format, registered by name, like the scorers.

A sample format turns one record into ``(system, messages, tools)`` (see :mod:`arena.ingest.formats` for the
normalised sample). Each module in this package defines one :class:`SampleFormat` subclass decorated with
``@register``: its ``name`` (stored on the dataset, accepted by the API, forms, CLI and exports), the keys it
defines, how to recognise it (``matches``; formats are tried in ``detect_priority`` order) and how to convert a
record (``convert``). Every list of sample formats (``SAMPLE_FORMATS``, export formats, form and API choices)
derives from this registry: adding a format is adding one module here.
"""
from __future__ import annotations

from typing import ClassVar

from arena.plugins import PluginRegistry

from arena.ingest.sample_formats._fields import ID_KEYS, FieldReader


class SampleFormat:
    name: ClassVar[str]
    label: ClassVar[str]  # how errors and forms name it
    hint: ClassVar[str]  # the keys that identify it, for "unknown sample format" errors
    order: ClassVar[int]  # position in lists (forms, error messages)
    detect_priority: ClassVar[int]  # lower is tried first when the format is detected
    keys: ClassVar[frozenset[str]]  # top-level keys the format defines; other keys are reported as ignored

    def matches(self, record: dict) -> bool:
        raise NotImplementedError

    def convert(self, record: dict, *, reader: FieldReader, ignored: list[str]) -> tuple[str, list[dict], str]:
        """``(system, messages, tools)`` of one record; raises IngestError through ``reader`` when it does not fit."""
        raise NotImplementedError


def _with_id_keys(cls: type[SampleFormat]) -> None:
    cls.keys = frozenset(cls.keys) | frozenset(ID_KEYS)


_FORMATS: PluginRegistry[SampleFormat] = PluginRegistry(
    kind="sample format", package=__name__, path=__path__, prepare=_with_id_keys
)
register = _FORMATS.register
sample_formats = _FORMATS.all  # every registered format, in list order
sample_format_names = _FORMATS.names
sample_format_get = _FORMATS.get


def sample_format_detect(record: dict) -> SampleFormat | None:
    """The first format (by ``detect_priority``) that recognises ``record``, or None."""
    for candidate in sorted(sample_formats(), key=lambda f: (f.detect_priority, f.name)):
        if candidate.matches(record):
            return candidate
    return None
