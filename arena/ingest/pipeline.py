"""Read an uploaded file, normalise every record and write the sample Parquet file.

``ingest_file`` is pure file-to-file work (no database), so the registry service,
the CLI, benchmarks and tests all drive the same code. It streams: memory is
bounded by one write batch plus the largest record.
"""
from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import pyarrow as pa
import pyarrow.parquet as pq

from arena.ingest import readers
from arena.ingest.errors import IngestError
from arena.ingest.formats import SAMPLE_FORMATS, Sample, detect_sample_format, normalise
from arena.ingest.schema import SAMPLE_SCHEMA, count_tokens
from arena.ingest.sources import open_decompressed, sniff
from arena.ingest.stats import LengthHistogram

ProgressCallback = Callable[[float, int], None]  # (fraction of input read, samples so far)


@dataclass
class IngestResult:
    file_format: str
    compression: str
    sample_format: str
    sample_count: int
    content_hash: str
    token_stats: dict = field(default_factory=dict)


@dataclass
class _Totals:
    instruction: LengthHistogram = field(default_factory=LengthHistogram)
    response: LengthHistogram = field(default_factory=LengthHistogram)
    turns: LengthHistogram = field(default_factory=LengthHistogram)
    hasher: "hashlib._Hash" = field(default_factory=hashlib.sha256)

    def token_stats(self) -> dict:
        return {
            "tokenizer": "words+punctuation (regex)",
            "instruction_tokens": self.instruction.summary(),
            "response_tokens": self.response.summary(),
            "turns": self.turns.summary(),
            "total_tokens": self.instruction.total + self.response.total,
        }


def _records(path: str, *, info, max_record_bytes: int, on_fraction: Callable[[float], None]) -> Iterator[tuple[str, dict]]:
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
        for n, item in enumerate(reader(source.stream, max_record_bytes=max_record_bytes), start=1):
            if n % 1000 == 0:
                on_fraction(source.position() / max(info.compressed_bytes, 1))
            yield item


def _row(sample: Sample, *, idx: int, location: str) -> dict:
    instruction, response = sample.instruction, sample.response
    return {
        "idx": idx,
        "id": sample.id,
        "system": sample.system,
        "messages": sample.messages,
        "instruction": instruction,
        "response": response,
        "n_turns": len(sample.messages),
        "instruction_tokens": count_tokens(instruction),
        "response_tokens": count_tokens(response),
        "source": location,
    }


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
) -> IngestResult:
    """Normalise ``path`` into ``out_path`` (Parquet). With ``out_path=None`` only validate.

    ``limit`` stops after that many records (the upload preflight). On any error
    the partial output file is removed before the error propagates.
    """
    if sample_format and sample_format not in SAMPLE_FORMATS:
        raise IngestError(f"unknown sample format {sample_format!r}; expected one of {', '.join(SAMPLE_FORMATS)}")
    info = sniff(path, filename=filename, file_format=file_format)
    totals = _Totals()
    writer: pq.ParquetWriter | None = None
    batch: list[dict] = []
    count = 0

    def on_fraction(fraction: float) -> None:
        if progress is not None:
            progress(min(fraction, 1.0), count)

    try:
        if out_path is not None:
            writer = pq.ParquetWriter(out_path, SAMPLE_SCHEMA, compression="zstd")
        for location, record in _records(path, info=info, max_record_bytes=max_record_bytes, on_fraction=on_fraction):
            if sample_format is None:
                sample_format = detect_sample_format(record, location=location)
            sample = normalise(record, sample_format=sample_format, location=location, index=count)
            row = _row(sample, idx=count, location=location)
            totals.instruction.add(row["instruction_tokens"])
            totals.response.add(row["response_tokens"])
            totals.turns.add(row["n_turns"])
            totals.hasher.update(
                json.dumps([sample.system, sample.messages], ensure_ascii=False, separators=(",", ":")).encode()
            )
            totals.hasher.update(b"\n")
            count += 1
            if writer is not None:
                batch.append(row)
                if len(batch) >= batch_rows:
                    writer.write_table(pa.Table.from_pylist(batch, schema=SAMPLE_SCHEMA))
                    batch.clear()
            if limit is not None and count >= limit:
                break
        if count == 0:
            raise IngestError("the file holds no records")
        if writer is not None:
            if batch:
                writer.write_table(pa.Table.from_pylist(batch, schema=SAMPLE_SCHEMA))
            writer.close()
            writer = None
    except BaseException:
        if writer is not None:
            writer.close()
        if out_path is not None and os.path.exists(out_path):
            os.remove(out_path)
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
    )
