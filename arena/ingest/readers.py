"""Stream records out of JSONL, JSON-array, CSV and Parquet files, one at a time.

Every reader yields ``(location, record)`` where ``location`` says where the
record came from ("line 12", "record 3", "row 7") and ``record`` is a dict.
Memory stays bounded by the largest single record, which is itself capped.
"""
from __future__ import annotations

import csv
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import BinaryIO

from arena.ingest.errors import IngestError
from arena.jsonsafe import DEFAULT_MAX_DEPTH, JsonTooDeep, check_depth, describe_decode_error, loads_limited

Record = tuple[str, "dict | BadRecord"]
_WHITESPACE = " \t\r\n"
_JSON_COLUMNS = ("messages", "conversations", "history", "tools")


def _decode_utf8(raw: bytes, *, location: str) -> str:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        bad = raw[exc.start : exc.start + 1].hex()
        raise IngestError(
            f"invalid UTF-8: byte 0x{bad} at byte offset {exc.start} of the line{_binary_hint(raw)}",
            location=location,
            rule="invalid_utf8",
        ) from None


def _binary_hint(raw: bytes) -> str:
    """A hint when undecodable bytes look like a binary file rather than one bad character."""
    undecodable = raw.decode("utf-8", errors="replace").count("\ufffd")
    return " (the file looks binary, not text: is it the format its name says?)" if undecodable > 8 else ""


def _strip_bom(text: str) -> str:
    return text[1:] if text.startswith("\ufeff") else text


@dataclass
class BadRecord:
    """A record that could not even be read (invalid JSON, not an object...): the repair policy rejects it."""

    error: IngestError
    raw: str


def _parse_json_record(text: str, *, location: str, max_depth: int) -> dict:
    try:
        value = loads_limited(text, max_depth=max_depth)
    except JsonTooDeep:
        raise IngestError(
            f"the record is nested deeper than {max_depth} levels (ARENA_MAX_JSON_DEPTH)", location=location, rule="too_deep"
        ) from None
    except json.JSONDecodeError as exc:
        truncated = exc.msg.startswith("Unterminated string") or exc.pos >= len(text.rstrip())
        problem = "truncated JSON" if truncated else "invalid JSON"
        byte = len(text[: exc.pos].encode("utf-8", errors="surrogatepass"))
        raise IngestError(
            f"{problem}: {describe_decode_error(exc)} (column {exc.colno}, byte {byte} of the line)",
            location=location,
            rule="invalid_json",
        ) from None
    if not isinstance(value, dict):
        hint = " (a JSON array: name the file .json, not .jsonl)" if isinstance(value, list) else ""
        raise IngestError(f"expected a JSON object, found {type(value).__name__}{hint}", location=location, rule="not_an_object")
    return value


def iter_jsonl(
    stream: BinaryIO,
    *,
    max_record_bytes: int,
    skip_bad: bool = False,
    max_depth: int = DEFAULT_MAX_DEPTH,
    first_line: int = 1,
) -> Iterator[Record]:
    """One JSON object per line. With ``skip_bad`` a line that cannot be read is yielded as a BadRecord.

    ``first_line`` numbers the stream's first line (a block cut from a larger file).
    """
    line_no = first_line - 1
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
                rule="record_too_large",
            )
        try:
            text = _decode_utf8(raw, location=location)
            if line_no == 1:
                text = _strip_bom(text)
            if not text.strip():
                continue
            yield location, _parse_json_record(text, location=location, max_depth=max_depth)
        except IngestError as exc:
            if not skip_bad:
                raise
            yield location, BadRecord(error=exc, raw=raw.decode("utf-8", errors="replace").rstrip("\r\n"))


def iter_json_array(
    stream: BinaryIO,
    *,
    max_record_bytes: int,
    chunk_bytes: int = 1024 * 1024,
    skip_bad: bool = False,
    max_depth: int = DEFAULT_MAX_DEPTH,
) -> Iterator[Record]:
    """Incrementally parse ``[ {...}, {...} ]`` without holding the whole array.

    Syntax errors are fatal (the array cannot be re-synchronised) and name the byte offset in the file;
    with ``skip_bad`` a well-formed element that is not an object, or is nested too deep, is a BadRecord.
    """
    parser = _JsonArrayParser(
        stream, max_record_bytes=max_record_bytes, chunk_bytes=chunk_bytes, skip_bad=skip_bad, max_depth=max_depth
    )
    yield from parser.records()


class _JsonArrayParser:
    def __init__(self, stream: BinaryIO, *, max_record_bytes: int, chunk_bytes: int, skip_bad: bool, max_depth: int) -> None:
        self.stream = stream
        self.max_record_bytes = max_record_bytes
        self.chunk_bytes = chunk_bytes
        self.skip_bad = skip_bad
        self.max_depth = max_depth
        self.decoder = json.JSONDecoder()
        self.buffer = ""
        self.pos = 0
        self.pending = b""  # an incomplete UTF-8 sequence carried to the next chunk
        self.eof = False
        self.started = False
        self.index = 0
        self.consumed_bytes = 0  # bytes of the file before buffer[0]

    def byte_offset(self, pos: int | None = None) -> int:
        """Byte offset in the (decompressed) file of buffer position ``pos`` (default: the current one)."""
        upto = self.buffer[: self.pos if pos is None else pos]
        return self.consumed_bytes + len(upto.encode("utf-8", errors="surrogatepass"))

    def fail(self, problem: str, *, rule: str = "invalid_json", pos: int | None = None) -> IngestError:
        where = f"record {max(self.index, 1)}, byte offset {self.byte_offset(pos):,}"
        return IngestError(problem, location=where, rule=rule)

    def fill(self) -> bool:
        if self.eof:
            return False
        chunk = self.stream.read(self.chunk_bytes)
        if not chunk:
            self.eof = True
            if self.pending:
                raise IngestError("invalid UTF-8: the file ends inside a multi-byte character", rule="invalid_utf8")
            return False
        data = self.pending + chunk
        try:
            text, self.pending = data.decode("utf-8"), b""
        except UnicodeDecodeError as exc:
            if exc.reason == "unexpected end of data" and exc.start >= len(data) - 3:
                text, self.pending = data[: exc.start].decode("utf-8", errors="strict"), data[exc.start :]
            else:
                offset = self.byte_offset(len(self.buffer)) + exc.start - len(self.pending)
                raise IngestError(
                    f"invalid UTF-8: byte 0x{data[exc.start:exc.start + 1].hex()} at byte offset {offset:,}"
                    f"{_binary_hint(data[:4096])}",
                    location=f"record {self.index if self.index else 1}",
                    rule="invalid_utf8",
                ) from None
        if not self.started and not self.buffer and text.startswith("\ufeff"):
            text = text[1:]
            self.consumed_bytes += 3
        self.consumed_bytes += len(self.buffer[: self.pos].encode("utf-8", errors="surrogatepass"))
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
            raise IngestError("the file is empty", rule="empty_file")
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
                    comma = self.pos
                    self.pos += 1
                    if self.next_char() == "]":
                        raise self.fail("trailing comma before ']' (JSON allows no comma after the last item)", pos=comma)
                    continue
                if separator == "]":
                    self.pos += 1
                    break
                if separator == "":
                    raise IngestError(
                        f"truncated JSON: the array is not closed with ']' after {self.index} record(s)",
                        location=f"after record {self.index}, byte offset {self.byte_offset():,}",
                        rule="invalid_json",
                    )
                raise self.fail(f"invalid JSON: expected ',' or ']' after the record, found {separator!r}")
        if self.next_char() != "":
            raise self.fail("invalid JSON: unexpected data after the closing ']' of the array")

    def _too_long(self) -> IngestError:
        return self.fail(
            f"record is longer than the {self.max_record_bytes:,}-byte record limit (ARENA_MAX_RECORD_BYTES)",
            rule="record_too_large",
        )

    def decode_record(self) -> Record:
        self.index += 1
        location = f"record {self.index}"
        if self.next_char() == "":
            raise IngestError("truncated JSON: the file ends where a record should start", location=location)
        while True:
            try:
                value, end = self.decoder.raw_decode(self.buffer, self.pos)
                break
            except RecursionError:
                raise self.fail(
                    f"the record is nested deeper than {self.max_depth} levels (ARENA_MAX_JSON_DEPTH)", rule="too_deep"
                ) from None
            except json.JSONDecodeError as exc:
                cause = describe_decode_error(exc)
                near_end = exc.msg.startswith("Unterminated string") or exc.pos >= len(self.buffer.rstrip()) - 6
                if cause != exc.msg or not near_end:  # a known cause, or an error well inside the data read
                    raise self.fail(f"invalid JSON: {cause}", pos=exc.pos) from None
                if len(self.buffer) - self.pos > self.max_record_bytes:
                    raise self._too_long() from None
                if not self.fill():
                    raise self.fail(f"truncated JSON: the file ends inside this record ({exc.msg})", pos=exc.pos) from None
        if end - self.pos > self.max_record_bytes:
            raise self._too_long()
        start, self.pos = self.pos, end
        try:
            check_depth(value, max_depth=self.max_depth)
            if not isinstance(value, dict):
                raise IngestError(f"expected a JSON object, found {type(value).__name__}", location=location, rule="not_an_object")
        except (JsonTooDeep, IngestError) as exc:
            error = exc if isinstance(exc, IngestError) else IngestError(
                f"the record is nested deeper than {self.max_depth} levels (ARENA_MAX_JSON_DEPTH)",
                location=location,
                rule="too_deep",
            )
            if not self.skip_bad:
                raise error from None
            return location, BadRecord(error=error, raw=self.buffer[start:end][:10_000])
        return location, value


def iter_csv(
    stream: BinaryIO, *, max_record_bytes: int, skip_bad: bool = False, max_depth: int = DEFAULT_MAX_DEPTH
) -> Iterator[Record]:
    """A header row, then one record per row; the messages/conversations/history/tools cells hold JSON."""
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
        try:
            yield location, _csv_record(header, row, location=location, max_depth=max_depth)
        except IngestError as exc:
            if not skip_bad:
                raise
            yield location, BadRecord(error=exc, raw=json.dumps(row, ensure_ascii=True))


def _csv_record(header: list[str], row: list[str], *, location: str, max_depth: int) -> dict:
    if len(row) != len(header):
        raise IngestError(
            f"expected {len(header)} columns as in the header, found {len(row)}", location=location, rule="bad_row"
        )
    record: dict = dict(zip(header, row))
    for column in _JSON_COLUMNS:
        cell = record.get(column)
        if isinstance(cell, str) and cell.strip():
            try:
                record[column] = loads_limited(cell, max_depth=max_depth)
            except JsonTooDeep:
                raise IngestError(f"column {column!r} is nested too deeply", location=location, rule="too_deep") from None
            except json.JSONDecodeError as exc:
                raise IngestError(
                    f"column {column!r} must hold JSON: {describe_decode_error(exc)} (character {exc.pos + 1} of the cell)",
                    location=location,
                    rule="invalid_json",
                ) from None
    return record


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
    from arena.ingest.file_formats import file_format_get  # the registry's modules import this one

    return file_format_get(file_format).reader()
