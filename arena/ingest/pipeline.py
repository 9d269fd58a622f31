"""Read an uploaded file, normalise every record and write the sample Parquet file.

``ingest_file`` is pure file-to-file work (no database), so the registry service,
the CLI, benchmarks and tests all drive the same code. It streams: memory is
bounded by one write batch plus the largest record.
"""
from __future__ import annotations

import contextlib
import io
import json
import os
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field

import pyarrow as pa
import pyarrow.parquet as pq

from arena.ingest import readers
from arena.ingest.errors import IngestError
from arena.ingest.formats import SAMPLE_FORMATS, Sample, detect_sample_format, normalise
from arena.ingest.repair import policy_check
from arena.ingest.report import IngestReport, RejectsWriter
from arena.ingest.schema import SAMPLE_SCHEMA, MultisetHash, count_tokens, sample_hash
from arena.ingest.sources import open_decompressed, sniff
from arena.ingest.stats import LengthHistogram
from arena.jsonsafe import DEFAULT_MAX_DEPTH

ProgressCallback = Callable[[float, int], None]  # (fraction of input read, samples so far)


@dataclass
class IngestResult:
    file_format: str
    compression: str
    sample_format: str
    sample_count: int
    content_hash: str
    token_stats: dict = field(default_factory=dict)
    report: dict = field(default_factory=dict)
    sketch: list[str] = field(default_factory=list)


@dataclass
class _Totals:
    instruction: LengthHistogram = field(default_factory=LengthHistogram)
    response: LengthHistogram = field(default_factory=LengthHistogram)
    turns: LengthHistogram = field(default_factory=LengthHistogram)
    hasher: MultisetHash = field(default_factory=MultisetHash)

    def token_stats(self) -> dict:
        return {
            "tokenizer": "words+punctuation (regex)",
            "instruction_tokens": self.instruction.summary(),
            "response_tokens": self.response.summary(),
            "turns": self.turns.summary(),
            "total_tokens": self.instruction.total + self.response.total,
        }


def _records(
    path: str, *, info, max_record_bytes: int, skip_bad: bool, max_depth: int, on_fraction: Callable[[float], None]
) -> Iterator[tuple[str, dict | readers.BadRecord]]:
    """Yield ``(location, record)`` from any supported file, reporting the fraction read every 1,000 records."""
    if info.file_format == "parquet":
        total_rows = max(readers.parquet_row_count(path), 1)
        for n, item in enumerate(readers.iter_parquet(path), start=1):
            if n % 1000 == 0:
                on_fraction(n / total_rows)
            yield item
        return
    with open_decompressed(path, compression=info.compression, compressed_bytes=info.compressed_bytes) as source:
        reader = readers.reader_for(info.file_format)
        items = reader(source.stream, max_record_bytes=max_record_bytes, skip_bad=skip_bad, max_depth=max_depth)
        for n, item in enumerate(items, start=1):
            if n % 1000 == 0:
                on_fraction(source.position() / max(info.compressed_bytes, 1))
            yield item


def _row(sample: Sample, *, idx: int, location: str) -> dict:
    messages = sample.messages
    before = messages[:-1]
    # tokens of Sample.instruction without building it: "role: " adds a word and a colon per turn when
    # there are several turns before the reply (see Sample.instruction)
    instruction_tokens = sum(count_tokens(m["content"]) for m in before) + (2 * len(before) if len(before) > 1 else 0)
    return {
        "idx": idx,
        "id": sample.id,
        "system": sample.system,
        "messages": messages,
        "n_turns": len(messages),
        "instruction_tokens": instruction_tokens,
        "response_tokens": count_tokens(messages[-1]["content"]),
        "source": location,
        "tools": sample.tools,
    }


_BLOCK_BYTES = 4 << 20


class _ParquetOut:
    """A ParquetWriter fed from one background thread, so encoding and compressing a block (which release the
    GIL) overlap with normalising the next; at most ``depth`` tables wait, which keeps memory bounded."""

    def __init__(self, path: str, *, depth: int = 2) -> None:
        self._writer = pq.ParquetWriter(path, SAMPLE_SCHEMA, compression="zstd")
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="ingest-parquet")
        self._pending: deque[Future] = deque()
        self._depth = depth

    def write(self, table: pa.Table, *, row_group_size: int) -> None:
        while len(self._pending) >= self._depth:
            self._pending.popleft().result()
        self._pending.append(self._pool.submit(self._writer.write_table, table, row_group_size=row_group_size))

    def close(self) -> None:
        try:
            while self._pending:
                self._pending.popleft().result()
        finally:
            self._pool.shutdown(wait=True)
            self._writer.close()


def _jsonl_blocks(stream, *, block_bytes: int) -> Iterator[tuple[bytes, int]]:
    """Complete lines of a JSONL stream, about ``block_bytes`` at a time, with the number of their first line."""
    carry, line = b"", 1
    while True:
        chunk = stream.read(block_bytes)
        if not chunk:
            if carry:
                yield carry, line
            return
        data = carry + chunk if carry else chunk
        cut = data.rfind(b"\n") + 1
        if cut == 0:
            carry = data  # one long line so far; the record path enforces the record-size limit
            if len(carry) > block_bytes * 4:
                yield carry, line
                carry = b""
            continue
        block, carry = data[:cut], data[cut:]
        yield block, line
        line += block.count(b"\n")


def _peek_format(block: bytes) -> str | None:
    """The sample format of the block's first record, or None (the record path then decides and explains)."""
    for n, raw in enumerate(block.split(b"\n", 64)[:64]):
        raw = raw[3:] if n == 0 and raw.startswith(b"\xef\xbb\xbf") else raw
        if raw.strip():
            try:
                record = json.loads(raw)
                return detect_sample_format(record, location="line 1") if isinstance(record, dict) else None
            except (ValueError, IngestError, RecursionError):
                return None
    return None


def ingest_file(
    *,
    path: str,
    filename: str,
    out_path: str | None,
    file_format: str | None = None,
    sample_format: str | None = None,
    max_record_bytes: int,
    batch_rows: int = 2000,
    limit: int | None = None,
    progress: ProgressCallback | None = None,
    policy: str = "strict",
    rejects_path: str | None = None,
    max_reject_fraction: float = 0.5,
    max_depth: int = DEFAULT_MAX_DEPTH,
    fast_path: bool = True,
) -> IngestResult:
    """Normalise ``path`` into ``out_path`` (Parquet). With ``out_path=None`` only validate.

    ``policy`` is ``strict`` (the first broken record refuses the file) or ``repair`` (see
    :mod:`arena.ingest.repair`: repair what the rules allow, skip the rest, write each skipped record to
    ``rejects_path`` as gzipped JSONL, and refuse the file when more than ``max_reject_fraction`` of its
    records are skipped). ``limit`` stops after that many records (the upload preflight). On any error
    the partial output files are removed before the error propagates.

    JSONL is read in blocks of complete lines; a clean block of a known sample format is normalised
    column-wise (:mod:`arena.ingest.fast`), any other block record by record, with the same outcome
    (``fast_path=False`` forces the record path, which the tests compare against).
    """
    policy_check(policy)
    if sample_format and sample_format not in SAMPLE_FORMATS:
        raise IngestError(
            f"unknown sample format {sample_format!r}; expected one of {', '.join(SAMPLE_FORMATS)}", rule="bad_option"
        )
    info = sniff(path, filename=filename, file_format=file_format)
    totals = _Totals()
    report = IngestReport(policy=policy)
    writer: _ParquetOut | None = None
    rejects: RejectsWriter | None = None
    batch: list[dict] = []
    count = 0

    def on_fraction(fraction: float) -> None:
        if progress is not None:
            progress(min(fraction, 1.0), count)

    try:
        if out_path is not None:
            writer = _ParquetOut(out_path)
        if rejects_path is not None and policy == "repair":
            rejects = RejectsWriter(rejects_path)
        def flush() -> None:
            if writer is not None and batch:
                writer.write(pa.Table.from_pylist(batch, schema=SAMPLE_SCHEMA), row_group_size=batch_rows)
            batch.clear()

        def handle(location: str, record) -> bool:
            """Normalise one record (record path); False once ``limit`` records were read."""
            nonlocal count, sample_format
            report.records += 1
            try:
                if isinstance(record, readers.BadRecord):
                    raise record.error
                if sample_format is None:
                    sample_format = detect_sample_format(record, location=location)
                outcome = normalise(record, sample_format=sample_format, location=location, index=count, policy=policy)
            except IngestError as exc:
                if policy == "strict":
                    raise
                original = record.raw if isinstance(record, readers.BadRecord) else record
                report.reject(location=location, error=exc)
                if rejects is not None:
                    rejects.write(location=location, error=exc, record=original)
                return True
            report.keep(outcome)
            sample = outcome.sample
            row = _row(sample, idx=count, location=location)
            totals.instruction.add(row["instruction_tokens"])
            totals.response.add(row["response_tokens"])
            totals.turns.add(row["n_turns"])
            totals.hasher.add(sample_hash(system=sample.system, tools=sample.tools, messages=sample.messages))
            count += 1
            if writer is not None:
                batch.append(row)
                if len(batch) >= batch_rows:
                    flush()
            return not (limit is not None and report.records >= limit)

        if info.file_format == "jsonl" and limit is None and fast_path:
            from arena.ingest import fast

            with open_decompressed(path, compression=info.compression, compressed_bytes=info.compressed_bytes) as source:
                # progress moves about 1/16 of the file at a time (blocks of 64 KiB to 4 MiB)
                block_bytes = min(_BLOCK_BYTES, max(_BLOCK_BYTES >> 6, info.compressed_bytes // 16))
                blocks = _jsonl_blocks(source.stream, block_bytes=block_bytes)
                parsing: deque[tuple[bytes, int, Future | None]] = deque()  # the next blocks, parsed ahead
                with ThreadPoolExecutor(max_workers=1, thread_name_prefix="ingest-parse") as parser:
                    while True:
                        while len(parsing) < 2:
                            block, first_line = next(blocks, (b"", 0))
                            if not block:
                                break
                            if sample_format is None and first_line == 1:
                                sample_format = _peek_format(block)
                            ahead = None
                            if sample_format is not None:
                                ahead = parser.submit(fast.parse_block, block, max_record_bytes=max_record_bytes)
                            parsing.append((block, first_line, ahead))
                        if not parsing:
                            break
                        block, first_line, ahead = parsing.popleft()
                        table = ahead.result() if ahead is not None else None
                        done = None
                        if table is not None:
                            done = fast.normalise_table(
                                table, sample_format=sample_format, first_line=first_line, first_idx=count
                            )
                        if done is not None:
                            n = done.table.num_rows
                            report.records += n
                            report.samples += n
                            totals.instruction.add_many(done.instruction_tokens)
                            totals.response.add_many(done.response_tokens)
                            totals.turns.add_many(done.n_turns)
                            totals.hasher.add_many(done.digests)
                            count += n
                            if writer is not None:
                                flush()
                                writer.write(done.table, row_group_size=batch_rows)
                        else:
                            records = readers.iter_jsonl(
                                io.BytesIO(block), max_record_bytes=max_record_bytes, skip_bad=policy == "repair",
                                max_depth=max_depth, first_line=first_line,
                            )
                            for location, record in records:
                                handle(location, record)
                        on_fraction(source.position() / max(info.compressed_bytes, 1))
        else:
            items = _records(
                path,
                info=info,
                max_record_bytes=max_record_bytes,
                skip_bad=policy == "repair",
                max_depth=max_depth,
                on_fraction=on_fraction,
            )
            for location, record in items:
                if not handle(location, record):
                    break
        report.check(max_reject_fraction=max_reject_fraction)
        if writer is not None:
            flush()
            writer.close()
            writer = None
        if rejects is not None:
            rejects.close()
            rejects = None
    except BaseException:
        if writer is not None:
            with contextlib.suppress(Exception):  # the error being raised matters, not a pending write's
                writer.close()
        if rejects is not None:
            rejects.close()
        for partial in (out_path, rejects_path):
            if partial is not None and os.path.exists(partial):
                os.remove(partial)
        raise
    if progress is not None:
        progress(1.0, count)
    return IngestResult(
        file_format=info.file_format,
        compression=info.compression,
        sample_format=sample_format or "",
        sample_count=count,
        content_hash=totals.hasher.hexdigest(),
        token_stats=totals.token_stats(),
        report=report.as_dict(),
        sketch=totals.hasher.sketch(),
    )
