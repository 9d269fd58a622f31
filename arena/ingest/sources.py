"""Open an uploaded file as a byte stream: detect compression and file format, guard against bombs."""
from __future__ import annotations

import gzip
import io
import os
from dataclasses import dataclass
from typing import BinaryIO

import zstandard

from arena.ingest.errors import IngestError
from arena.ingest.file_formats import extension_formats, file_format_get, file_format_names, file_formats

#: every registered file format (``arena/ingest/file_formats/``, one module each)
FILE_FORMATS: tuple[str, ...] = file_format_names()

_GZIP_MAGIC = b"\x1f\x8b"
_ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"
_ZIP_MAGIC = b"PK\x03\x04"
_PARQUET_MAGIC = file_format_get("parquet").magic
_EXTENSION_FORMATS = extension_formats()
_EXTENSION_COMPRESSIONS = {".gz": "gzip", ".gzip": "gzip", ".zst": "zstd", ".zstd": "zstd"}


@dataclass(frozen=True)
class SourceInfo:
    file_format: str
    compression: str  # "" when uncompressed
    compressed_bytes: int


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


# Binary files people upload by mistake, recognised by their first bytes.
_OTHER_MAGIC = {
    b"%PDF": "a PDF document",
    b"\x89PNG": "a PNG image",
    b"\xff\xd8\xff": "a JPEG image",
    b"SQLite format 3\x00": "an SQLite database",
    b"ARROW1": "an Arrow IPC (Feather) file",
    b"\xd0\xcf\x11\xe0": "an old Microsoft Office document",
    b"BZh": "a bzip2 archive",
    b"\xfd7zXZ\x00": "an xz archive",
    b"7z\xbc\xaf": "a 7-Zip archive",
}
_FORMAT_NAMES = {f.name: f.label for f in file_formats()}


def detect_compression(head: bytes, filename: str) -> str:
    """The compression, from the magic bytes; the file name is only checked against them."""
    if head.startswith(_ZIP_MAGIC):
        raise IngestError(
            "this is a zip archive (or an .xlsx/.docx file), not a dataset file: upload the JSONL/JSON/Parquet/CSV "
            "file itself, or compress it with gzip or zstd",
            rule="wrong_file_type",
        )
    if head.startswith(_GZIP_MAGIC):
        return "gzip"
    if head.startswith(_ZSTD_MAGIC):
        return "zstd"
    ext = os.path.splitext(filename.lower())[1]
    if ext in _EXTENSION_COMPRESSIONS:
        raise IngestError(
            f"the file name ends in {ext} but the content is not {_EXTENSION_COMPRESSIONS[ext]}-compressed",
            rule="wrong_file_type",
        )
    return ""


def _named_format(filename: str) -> str | None:
    name = filename.lower()
    for ext in _EXTENSION_COMPRESSIONS:
        if name.endswith(ext):
            name = name[: -len(ext)]
    return _EXTENSION_FORMATS.get(os.path.splitext(name)[1])


def detect_file_format(head: bytes, filename: str, compression: str, declared: str | None = None) -> str:
    """The file format, sniffed from the content first; the name (or ``declared``) only where content cannot tell.

    A Parquet file is recognised by its magic bytes whatever its name; declaring another format for one is
    refused with the real cause ("this is a Parquet file, not JSONL").
    """
    if head.startswith(_PARQUET_MAGIC):
        if declared and declared != "parquet":
            raise IngestError(
                f"this is a Parquet file, not {_FORMAT_NAMES[declared]}: choose file format parquet or auto-detect",
                rule="wrong_file_type",
            )
        return "parquet"
    for magic, kind in _OTHER_MAGIC.items():
        if head.startswith(magic):
            raise IngestError(
                f"this is {kind}, not a dataset file: upload JSONL, a JSON array, Parquet or CSV", rule="wrong_file_type"
            )
    if declared:
        return declared
    stripped = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    named = _named_format(filename)
    if not stripped:
        if named and named != "parquet":
            return named  # only whitespace so far: the reader decides whether records follow
        raise IngestError("the file is empty", rule="empty_file")
    if named == "parquet":
        raise IngestError(
            "the file is named .parquet but does not start with the Parquet magic bytes 'PAR1'", rule="wrong_file_type"
        )
    if stripped[:1] == b"[" and named in (None, "json", "jsonl"):
        return "json"
    if stripped[:1] == b"{" and named in (None, "json", "jsonl"):
        return "jsonl"
    if named:
        return named
    first_line = stripped.split(b"\n", 1)[0]
    if b"," in first_line:
        return "csv"
    raise IngestError(
        f"cannot tell the file format of {filename!r}: name it .jsonl, .json, .parquet or .csv "
        "(optionally .gz or .zst) or pass file_format",
        rule="wrong_file_type",
    )


def sniff(path: str, *, filename: str, file_format: str | None = None) -> SourceInfo:
    size = os.path.getsize(path)
    if size == 0:
        raise IngestError("the file is empty", rule="empty_file")
    with open(path, "rb") as raw:
        head = raw.read(4096)
    compression = detect_compression(head, filename)
    if compression:
        with open_decompressed(path, compression=compression, compressed_bytes=size) as source:
            head = source.stream.read(4096)
        if not head:
            raise IngestError("the file is empty after decompression", rule="empty_file")
    if file_format and file_format not in FILE_FORMATS:
        raise IngestError(
            f"unknown file format {file_format!r}; expected one of {', '.join(FILE_FORMATS)}", rule="bad_option"
        )
    file_format = detect_file_format(head, filename, compression, declared=file_format)
    if file_format == "parquet" and compression:
        raise IngestError(
            "Parquet files must not be wrapped in gzip/zstd: Parquet compresses its pages itself", rule="wrong_file_type"
        )
    if file_format == "parquet" and not head.startswith(_PARQUET_MAGIC):
        raise IngestError(
            "the file is declared Parquet but does not start with the Parquet magic bytes 'PAR1'", rule="wrong_file_type"
        )
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
