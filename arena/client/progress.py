"""Progress display for uploads, downloads and polling: a tqdm bar on stderr, silent when asked."""

from __future__ import annotations

import os
from typing import BinaryIO

from tqdm import tqdm


def byte_bar(*, total: int | None, description: str, enabled: bool) -> tqdm:
    """A byte-count bar on stderr that stays on screen when done, so the user sees the transfer completed."""
    return tqdm(total=total, desc=description, unit="B", unit_scale=True, unit_divisor=1024, disable=not enabled)


class ProgressReader:
    """Wraps a binary file so that every ``read`` the HTTP client makes advances a progress bar.

    ``fileno`` is passed through, so httpx still learns the file's size and sends a Content-Length
    (a streamed body, never loaded into memory, and no chunked encoding the WSGI server must support).
    """

    def __init__(self, handle: BinaryIO, bar: tqdm) -> None:
        self._handle = handle
        self._bar = bar

    def read(self, size: int = -1) -> bytes:
        chunk = self._handle.read(size)
        self._bar.update(len(chunk))
        return chunk

    def seek(self, offset: int, whence: int = os.SEEK_SET) -> int:
        position = self._handle.seek(offset, whence)
        self._bar.reset(total=self._bar.total)
        self._bar.update(position)
        return position

    def tell(self) -> int:
        return self._handle.tell()

    def fileno(self) -> int:
        return self._handle.fileno()
