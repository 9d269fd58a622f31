"""Stream records out of JSONL, JSON-array, CSV and Parquet files, one at a time.

Every reader yields ``(location, record)`` where ``location`` says where the
record came from ("line 12", "record 3", "row 7") and ``record`` is a dict.
Memory stays bounded by the largest single record, which is itself capped.
"""
from __future__ import annotations

import csv
import json
from collections.abc import Callable, Iterator
from typing import BinaryIO

from arena.ingest.errors import IngestError

Record = tuple[str, dict]
_WHITESPACE = " \t\r\n"
_JSON_COLUMNS = ("messages", "conversations", "history")


def _decode_utf8(raw: bytes, *, location: str) -> str:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        bad = raw[exc.start : exc.start + 1].hex()
        raise IngestError(f"invalid UTF-8: byte 0x{bad} at byte offset {exc.start}", location=location) from None


def _strip_bom(text: str) -> str:
    return text[1:] if text.startswith("\ufeff") else text


def iter_jsonl(stream: BinaryIO, *, max_record_bytes: int) -> Iterator[Record]:
    line_no = 0
    while True:
        raw = stream.readline(max_record_bytes + 1)
        if not raw:
            return
        line_no += 1
        location = f"line {line_no}"
        if len(raw) > max_record_bytes and not raw.endswith(b"\n"):
            raise IngestError(
                f"line is longer than the {max_record_bytes:,}-byte record limit (ARENA_MAX_RECORD_BYTES)",
                location=location,
            )
        text = _decode_utf8(raw, location=location)
        if line_no == 1:
            text = _strip_bom(text)
        if not text.strip():
            continue
        try:
            value = json.loads(text)
        except json.JSONDecodeError as exc:
            truncated = exc.msg.startswith("Unterminated string") or exc.pos >= len(text.rstrip())
            problem = "truncated JSON" if truncated else "invalid JSON"
            raise IngestError(f"{problem}: {exc.msg} (column {exc.colno})", location=location) from None
        if not isinstance(value, dict):
            raise IngestError(f"expected a JSON object, found {type(value).__name__}", location=location)
        yield location, value


def iter_json_array(stream: BinaryIO, *, max_record_bytes: int, chunk_bytes: int = 1024 * 1024) -> Iterator[Record]:
    """Incrementally parse ``[ {...}, {...} ]`` without holding the whole array."""
    parser = _JsonArrayParser(stream, max_record_bytes=max_record_bytes, chunk_bytes=chunk_bytes)
    yield from parser.records()


class _JsonArrayParser:
    def __init__(self, stream: BinaryIO, *, max_record_bytes: int, chunk_bytes: int) -> None:
        self.stream = stream
        self.max_record_bytes = max_record_bytes
        self.chunk_bytes = chunk_bytes
        self.decoder = json.JSONDecoder()
        self.buffer = ""
        self.pos = 0
        self.pending = b""  # an incomplete UTF-8 sequence carried to the next chunk
        self.eof = False
        self.started = False
        self.index = 0

    def fill(self) -> bool:
        if self.eof:
            return False
        chunk = self.stream.read(self.chunk_bytes)
        if not chunk:
            self.eof = True
            if self.pending:
                raise IngestError("invalid UTF-8: the file ends inside a multi-byte character")
            return False
        data = self.pending + chunk
        try:
            text, self.pending = data.decode("utf-8"), b""
        except UnicodeDecodeError as exc:
            if exc.reason == "unexpected end of data" and exc.start >= len(data) - 3:
                text, self.pending = data[: exc.start].decode("utf-8", errors="strict"), data[exc.start :]
            else:
                raise IngestError(
                    f"invalid UTF-8: byte 0x{data[exc.start:exc.start + 1].hex()}",
                    location=f"record {self.index if self.index else 1}",
                ) from None
        if not self.started and not self.buffer:
            text = _strip_bom(text)
        self.buffer = self.buffer[self.pos :] + text
        self.pos = 0
        return True

    def next_char(self) -> str:
        """The next non-whitespace character (not consumed), or '' at end of file."""
        while True:
            while self.pos < len(self.buffer) and self.buffer[self.pos] in _WHITESPACE:
                self.pos += 1
            if self.pos < len(self.buffer):
                return self.buffer[self.pos]
            if not self.fill():
                return ""

    def records(self) -> Iterator[Record]:
        first = self.next_char()
        if first == "":
            raise IngestError("the file is empty")
        if first != "[":
            raise IngestError("a .json file must hold one JSON array of records (use .jsonl for one record per line)")
        self.started = True
        self.pos += 1
        if self.next_char() == "]":
            self.pos += 1
        else:
            while True:
                yield self.decode_record()
                separator = self.next_char()
                if separator == ",":
                    self.pos += 1
                    continue
                if separator == "]":
                    self.pos += 1
                    break
                if separator == "":
                    raise IngestError(
                        f"truncated JSON: the array is not closed with ']' after {self.index} record(s)",
                        location=f"after record {self.index}",
                    )
                raise IngestError(
                    f"invalid JSON: expected ',' or ']' after the record, found {separator!r}",
                    location=f"record {self.index}",
                )
        if self.next_char() != "":
            raise IngestError("invalid JSON: unexpected data after the closing ']' of the array")

    def decode_record(self) -> Record:
        self.index += 1
        location = f"record {self.index}"
        if self.next_char() == "":
            raise IngestError("truncated JSON: the file ends where a record should start", location=location)
        while True:
            try:
                value, end = self.decoder.raw_decode(self.buffer, self.pos)
                break
            except json.JSONDecodeError as exc:
                incomplete = exc.msg.startswith("Unterminated string") or exc.pos >= len(self.buffer.rstrip()) - 6
                if not incomplete:
                    raise IngestError(f"invalid JSON: {exc.msg}", location=location) from None
                if len(self.buffer) - self.pos > self.max_record_bytes:
                    raise IngestError(
                        f"record is longer than the {self.max_record_bytes:,}-byte record limit (ARENA_MAX_RECORD_BYTES)",
                        location=location,
                    ) from None
                if not self.fill():
                    raise IngestError(
                        f"truncated JSON: the file ends inside this record ({exc.msg})", location=location
                    ) from None
        if end - self.pos > self.max_record_bytes:
            raise IngestError(
                f"record is longer than the {self.max_record_bytes:,}-byte record limit (ARENA_MAX_RECORD_BYTES)",
                location=location,
            )
        self.pos = end
        if not isinstance(value, dict):
            raise IngestError(f"expected a JSON object, found {type(value).__name__}", location=location)
        return location, value


def iter_csv(stream: BinaryIO, *, max_record_bytes: int) -> Iterator[Record]:
    line_counter = {"n": 0}

    def lines() -> Iterator[str]:
        while True:
            raw = stream.readline(max_record_bytes + 1)
            if not raw:
                return
            line_counter["n"] += 1
            location = f"line {line_counter['n']}"
            if len(raw) > max_record_bytes and not raw.endswith(b"\n"):
                raise IngestError(
                    f"line is longer than the {max_record_bytes:,}-byte record limit (ARENA_MAX_RECORD_BYTES)",
                    location=location,
                )
            text = _decode_utf8(raw, location=location)
            yield _strip_bom(text) if line_counter["n"] == 1 else text

    csv.field_size_limit(max_record_bytes)
    reader = csv.reader(lines())
    try:
        header = next(reader)
    except StopIteration:
        raise IngestError("the file is empty") from None
    except csv.Error as exc:
        raise IngestError(f"invalid CSV header: {exc}", location="line 1") from None
    header = [h.strip() for h in header]
    if len(set(header)) != len(header) or any(not h for h in header):
        raise IngestError(f"the CSV header has empty or repeated column names: {header}", location="line 1")
    while True:
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            raise IngestError(f"invalid CSV: {exc}", location=f"line {reader.line_num}") from None
        location = f"line {reader.line_num}"
        if not row or all(not cell for cell in row):
            continue
        if len(row) != len(header):
            raise IngestError(f"expected {len(header)} columns as in the header, found {len(row)}", location=location)
        record: dict = dict(zip(header, row))
        for column in _JSON_COLUMNS:
            cell = record.get(column)
            if isinstance(cell, str) and cell.strip():
                try:
                    record[column] = json.loads(cell)
                except json.JSONDecodeError as exc:
                    raise IngestError(f"column {column!r} must hold JSON: {exc.msg}", location=location) from None
        yield location, record


def iter_parquet(path: str, *, batch_rows: int = 1000) -> Iterator[Record]:
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        parquet = pq.ParquetFile(path)
    except (pa.ArrowInvalid, OSError) as exc:
        raise IngestError(f"not a readable Parquet file: {exc}") from None
    row = 0
    try:
        for batch in parquet.iter_batches(batch_size=batch_rows):
            for record in batch.to_pylist():
                row += 1
                yield f"record {row}", record
    except (pa.ArrowInvalid, OSError) as exc:
        raise IngestError(f"corrupt Parquet data: {exc}", location=f"record {row + 1}") from None


def parquet_row_count(path: str) -> int:
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        return pq.ParquetFile(path).metadata.num_rows
    except (pa.ArrowInvalid, OSError) as exc:
        raise IngestError(f"not a readable Parquet file: {exc}") from None


def reader_for(file_format: str) -> Callable[..., Iterator[Record]]:
    return {"jsonl": iter_jsonl, "json": iter_json_array, "csv": iter_csv}[file_format]
