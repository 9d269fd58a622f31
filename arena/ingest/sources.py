"""Open an uploaded file as a byte stream: detect compression and file format, guard against bombs."""
from __future__ import annotations

import gzip
import io
import os
from dataclasses import dataclass
from typing import BinaryIO

import zstandard

from arena.ingest.errors import IngestError

FILE_FORMATS = ("jsonl", "json", "parquet", "csv")
COMPRESSIONS = ("gzip", "zstd")

_GZIP_MAGIC = b"\x1f\x8b"
_ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"
_ZIP_MAGIC = b"PK\x03\x04"
_PARQUET_MAGIC = b"PAR1"
_EXTENSION_FORMATS = {".jsonl": "jsonl", ".ndjson": "jsonl", ".json": "json", ".parquet": "parquet", ".csv": "csv"}
_EXTENSION_COMPRESSIONS = {".gz": "gzip", ".gzip": "gzip", ".zst": "zstd", ".zstd": "zstd"}


@dataclass(frozen=True)
class SourceInfo:
    file_format: str
    compression: str  # "" when uncompressed
    compressed_bytes: int


class CountingReader(io.RawIOBase):
    """Counts bytes read through it, for progress and for the decompression guard."""

    def __init__(self, inner: BinaryIO) -> None:
        self.inner = inner
        self.bytes_read = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:  # type: ignore[override]
        data = self.inner.read(len(buffer))
        n = len(data)
        buffer[:n] = data
        self.bytes_read += n
        return n


class BombGuard(io.RawIOBase):
    """Stops decompression that expands beyond the allowed ratio or absolute size."""

    def __init__(self, inner: BinaryIO, *, compressed_bytes: int, max_ratio: int, max_bytes: int) -> None:
        self.inner = inner
        self.compressed_bytes = max(compressed_bytes, 1)
        self.max_ratio = max_ratio
        self.max_bytes = max_bytes
        self.bytes_out = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:  # type: ignore[override]
        try:
            data = self.inner.read(len(buffer))
        except (OSError, EOFError, zstandard.ZstdError) as exc:
            raise IngestError(f"the compressed stream is corrupt or truncated ({exc})") from exc
        n = len(data)
        buffer[:n] = data
        self.bytes_out += n
        if self.bytes_out > self.max_bytes:
            raise IngestError(
                f"decompressed data exceeds the {self.max_bytes:,}-byte limit; refusing a possible decompression bomb"
            )
        # Small files legitimately compress well; judge the ratio only past 16 MiB.
        if self.bytes_out > 16 * 1024 * 1024 and self.bytes_out > self.max_ratio * self.compressed_bytes:
            raise IngestError(
                f"decompression ratio exceeds {self.max_ratio}:1 ({self.compressed_bytes:,} compressed bytes expanded "
                f"past {self.bytes_out:,}); refusing a possible decompression bomb"
            )
        return n


def detect_compression(head: bytes, filename: str) -> str:
    if head.startswith(_ZIP_MAGIC):
        raise IngestError("zip archives are not accepted: upload the file itself, or compress it with gzip or zstd")
    if head.startswith(_GZIP_MAGIC):
        return "gzip"
    if head.startswith(_ZSTD_MAGIC):
        return "zstd"
    ext = os.path.splitext(filename.lower())[1]
    if ext in _EXTENSION_COMPRESSIONS:
        raise IngestError(f"the file name ends in {ext} but the content is not {_EXTENSION_COMPRESSIONS[ext]}-compressed")
    return ""


def detect_file_format(head: bytes, filename: str, compression: str) -> str:
    name = filename.lower()
    for ext in _EXTENSION_COMPRESSIONS:
        if name.endswith(ext):
            name = name[: -len(ext)]
    ext = os.path.splitext(name)[1]
    if ext in _EXTENSION_FORMATS:
        return _EXTENSION_FORMATS[ext]
    if head.startswith(_PARQUET_MAGIC):
        return "parquet"
    stripped = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    if not stripped:
        raise IngestError("the file is empty")
    if stripped[:1] == b"[":
        return "json"
    if stripped[:1] == b"{":
        return "jsonl"
    first_line = stripped.split(b"\n", 1)[0]
    if b"," in first_line:
        return "csv"
    raise IngestError(
        f"cannot tell the file format of {filename!r}: name it .jsonl, .json, .parquet or .csv "
        "(optionally .gz or .zst) or pass file_format"
    )


def sniff(path: str, *, filename: str, file_format: str | None = None) -> SourceInfo:
    size = os.path.getsize(path)
    if size == 0:
        raise IngestError("the file is empty")
    with open(path, "rb") as raw:
        head = raw.read(4096)
    compression = detect_compression(head, filename)
    if compression:
        with open_decompressed(path, compression=compression, compressed_bytes=size) as source:
            head = source.stream.read(4096)
        if not head:
            raise IngestError("the file is empty after decompression")
    if file_format:
        if file_format not in FILE_FORMATS:
            raise IngestError(f"unknown file format {file_format!r}; expected one of {', '.join(FILE_FORMATS)}")
    else:
        file_format = detect_file_format(head, filename, compression)
    if file_format == "parquet" and compression:
        raise IngestError("Parquet files must not be wrapped in gzip/zstd: Parquet compresses its pages itself")
    if file_format == "parquet" and not head.startswith(_PARQUET_MAGIC):
        raise IngestError("the file is named .parquet but does not start with the Parquet magic bytes 'PAR1'")
    return SourceInfo(file_format=file_format, compression=compression, compressed_bytes=size)


class OpenedSource:
    """A decompressed, buffered byte stream plus the position in the file on disk (for progress)."""

    def __init__(self, *, raw: BinaryIO, stream: io.BufferedReader, inner: BinaryIO | None) -> None:
        self.raw = raw
        self.stream = stream
        self._inner = inner

    def position(self) -> int:
        return self.raw.tell()

    def close(self) -> None:
        for closable in (self.stream, self._inner, self.raw):
            if closable is not None:
                try:
                    closable.close()
                except Exception:  # noqa: BLE001 - closing a corrupt stream may raise again
                    pass

    def __enter__(self) -> "OpenedSource":
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()


def open_decompressed(path: str, *, compression: str, compressed_bytes: int) -> OpenedSource:
    """Open ``path`` as a buffered byte stream of its decompressed content, with the bomb guard."""
    from django.conf import settings

    raw = open(path, "rb")
    if compression == "":
        return OpenedSource(raw=raw, stream=io.BufferedReader(raw, buffer_size=1024 * 1024), inner=None)
    if compression == "gzip":
        inner: BinaryIO = gzip.GzipFile(fileobj=raw, mode="rb")
    elif compression == "zstd":
        inner = zstandard.ZstdDecompressor().stream_reader(raw, read_across_frames=True, closefd=False)
    else:
        raw.close()
        raise IngestError(f"unknown compression {compression!r}; expected gzip or zstd")
    guard = BombGuard(
        inner,
        compressed_bytes=compressed_bytes,
        max_ratio=settings.ARENA_MAX_COMPRESSION_RATIO,
        max_bytes=settings.ARENA_MAX_DECOMPRESSED_BYTES,
    )
    return OpenedSource(raw=raw, stream=io.BufferedReader(guard, buffer_size=1024 * 1024), inner=inner)
