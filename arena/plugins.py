"""A registry of plug-in classes, one module each in a package, like the scorers: the shape shared by the file
formats (``arena/ingest/file_formats/``) and the sample formats (``arena/ingest/sample_formats/``).

The package creates one ``PluginRegistry`` and exposes its ``register`` decorator; every module of the package
whose name does not start with ``_`` is imported on first use, so adding an entry is adding one module.
"""
from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable
from typing import Generic, TypeVar

T = TypeVar("T")


class PluginRegistry(Generic[T]):
    def __init__(self, *, kind: str, package: str, path: list[str], prepare: Callable[[type], None] | None = None):
        self._kind, self._package, self._path, self._prepare = kind, package, path, prepare
        self._entries: dict[str, T] = {}
        self._loaded = False

    def register(self, cls: type) -> type:
        """Class decorator: one instance of ``cls`` under ``cls.name`` (a second one with that name is an error)."""
        if cls.name in self._entries:
            raise ValueError(f"{self._kind} {cls.name!r} registered twice")
        if self._prepare is not None:
            self._prepare(cls)
        self._entries[cls.name] = cls()
        return cls

    def _load(self) -> None:
        if self._loaded:
            return
        self._loaded = True
        for module in pkgutil.iter_modules(self._path):
            if not module.name.startswith("_"):
                importlib.import_module(f"{self._package}.{module.name}")

    def all(self) -> list[T]:
        """Every entry, in list order (``order``, then name)."""
        self._load()
        return sorted(self._entries.values(), key=lambda entry: (entry.order, entry.name))

    def names(self) -> tuple[str, ...]:
        return tuple(entry.name for entry in self.all())

    def get(self, name: str) -> T | None:
        self._load()
        return self._entries.get(name)
