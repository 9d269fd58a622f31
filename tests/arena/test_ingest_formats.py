"""Each file format and each sample format normalises to the same sample schema."""
from __future__ import annotations

import csv
import gzip
import io
import json

import pyarrow as pa
import pyarrow.parquet as pq

from arena.ingest.schema import canonical_message
import pytest
import zstandard

from arena.ingest.pipeline import ingest_file
from arena.storage import iter_parquet_batches

ALPACA = [
    {"instruction": "Add 2 and 3.", "input": "", "output": "5"},
    {"instruction": "Translate to French:", "input": "cat", "output": "chat", "system": "You translate."},
]
SHAREGPT = [
    {
        "id": "conv-1",
        "conversations": [
            {"from": "system", "value": "Be brief."},
            {"from": "human", "value": "Hi"},
            {"from": "gpt", "value": "Hello!"},
            {"from": "human", "value": "Add 2 and 3."},
            {"from": "gpt", "value": "5"},
        ],
    }
]
MESSAGES = [
    {
        "messages": [
            {"role": "system", "content": "You are helpful."},
            {"role": "user", "content": [{"type": "text", "text": "Add 2 "}, {"type": "text", "text": "and 3."}]},
            {"role": "assistant", "content": "5"},
        ]
    }
]


def _jsonl(records) -> bytes:
    return "".join(json.dumps(r) + "\n" for r in records).encode()


def _ingest(tmp_path, data: bytes, name: str, **kwargs):
    path = tmp_path / name
    path.write_bytes(data)
    out = tmp_path / "out.parquet"
    result = ingest_file(path=str(path), filename=name, out_path=str(out), max_record_bytes=1 << 20, **kwargs)
    rows = list(iter_parquet_batches(pq.ParquetFile(out)))  # with the instruction/response views
    rows = [row for batch in rows for row in batch.to_pylist()]
    for row in rows:  # Parquet gives every optional message field; compare what the sample carries
        row["messages"] = [canonical_message(m) for m in row["messages"]]
    return result, rows


def test_alpaca_jsonl_normalises_instruction_input_and_system(tmp_path):
    result, rows = _ingest(tmp_path, _jsonl(ALPACA), "a.jsonl")
    assert (result.file_format, result.sample_format, result.sample_count) == ("jsonl", "alpaca", 2)
    assert rows[0]["messages"] == [{"role": "user", "content": "Add 2 and 3."}, {"role": "assistant", "content": "5"}]
    assert rows[1]["instruction"] == "Translate to French:\n\ncat"
    assert rows[1]["system"] == "You translate."
    assert [r["idx"] for r in rows] == [0, 1]
    assert [r["source"] for r in rows] == ["line 1", "line 2"]


def test_alpaca_history_becomes_earlier_turns(tmp_path):
    record = {"instruction": "And 4+4?", "output": "8", "history": [["2+2?", "4"]]}
    _, rows = _ingest(tmp_path, _jsonl([record]), "h.jsonl")
    assert [m["role"] for m in rows[0]["messages"]] == ["user", "assistant", "user", "assistant"]
    assert rows[0]["response"] == "8"
    assert rows[0]["instruction"] == "user: 2+2?\n\nassistant: 4\n\nuser: And 4+4?"


def test_sharegpt_roles_are_mapped_and_system_lifted(tmp_path):
    result, rows = _ingest(tmp_path, _jsonl(SHAREGPT), "s.jsonl")
    assert result.sample_format == "sharegpt"
    row = rows[0]
    assert row["id"] == "conv-1"
    assert row["system"] == "Be brief."
    assert [m["role"] for m in row["messages"]] == ["user", "assistant", "user", "assistant"]
    assert row["n_turns"] == 4


def test_openai_messages_with_content_parts(tmp_path):
    result, rows = _ingest(tmp_path, _jsonl(MESSAGES), "m.jsonl")
    assert result.sample_format == "messages"
    assert rows[0]["instruction"] == "Add 2 and 3."
    assert rows[0]["system"] == "You are helpful."


def test_json_array_streams_records(tmp_path):
    data = json.dumps(ALPACA * 500, indent=1).encode()
    result, rows = _ingest(tmp_path, data, "a.json")
    assert result.file_format == "json" and result.sample_count == 1000
    assert rows[999]["source"] == "record 1000"


def test_json_array_parser_handles_records_split_across_chunks(tmp_path):
    from arena.ingest.readers import iter_json_array

    records = [{"instruction": "é" * n, "output": "ü" * n} for n in range(1, 60)]
    data = json.dumps(records, ensure_ascii=False).encode()
    parsed = [r for _, r in iter_json_array(io.BytesIO(data), max_record_bytes=1 << 20, chunk_bytes=7)]
    assert parsed == records


def test_csv_alpaca_columns(tmp_path):
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=["instruction", "input", "output"])
    writer.writeheader()
    writer.writerows([{"instruction": "Say hi,\nplease", "input": "", "output": "hi"}] * 3)
    result, rows = _ingest(tmp_path, buffer.getvalue().encode(), "a.csv")
    assert (result.file_format, result.sample_format, result.sample_count) == ("csv", "alpaca", 3)
    assert rows[0]["instruction"] == "Say hi,\nplease"


def test_csv_with_messages_column_as_json(tmp_path):
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["id", "messages"])
    writer.writerow(["x1", json.dumps(MESSAGES[0]["messages"])])
    result, rows = _ingest(tmp_path, buffer.getvalue().encode(), "m.csv")
    assert result.sample_format == "messages" and rows[0]["id"] == "x1"


def test_parquet_input(tmp_path):
    table = pa.Table.from_pylist([{"system": None, **r} for r in ALPACA * 10])
    sink = io.BytesIO()
    pq.write_table(table, sink)
    result, rows = _ingest(tmp_path, sink.getvalue(), "a.parquet")
    assert (result.file_format, result.sample_count) == ("parquet", 20)
    assert rows[1]["system"] == "You translate."


@pytest.mark.parametrize(
    ("name", "compress"),
    [("a.jsonl.gz", gzip.compress), ("a.jsonl.zst", lambda b: zstandard.ZstdCompressor().compress(b))],
)
def test_compressed_jsonl(tmp_path, name, compress):
    result, rows = _ingest(tmp_path, compress(_jsonl(ALPACA)), name)
    assert result.compression in ("gzip", "zstd") and result.sample_count == 2


def test_format_detected_from_content_when_extension_is_unknown(tmp_path):
    result, _ = _ingest(tmp_path, _jsonl(ALPACA), "upload.bin")
    assert result.file_format == "jsonl"
    result, _ = _ingest(tmp_path, json.dumps(ALPACA).encode(), "upload.dat")
    assert result.file_format == "json"


def test_sample_format_override(tmp_path):
    record = {"messages": [{"from": "human", "value": "hi"}, {"from": "gpt", "value": "hello"}]}
    result, rows = _ingest(tmp_path, _jsonl([record]), "x.jsonl")
    assert result.sample_format == "sharegpt"
    from arena.ingest.errors import IngestError

    with pytest.raises(IngestError, match=r"line 1: messages\[1\] has no 'role' key"):
        _ingest(tmp_path, _jsonl([record]), "x.jsonl", sample_format="messages")


def test_identical_content_in_different_files_has_the_same_hash(tmp_path):
    as_jsonl, _ = _ingest(tmp_path, _jsonl(ALPACA), "a.jsonl")
    as_json, _ = _ingest(tmp_path, json.dumps(ALPACA).encode(), "a.json")
    changed, _ = _ingest(tmp_path, _jsonl(ALPACA[:1]), "b.jsonl")
    assert as_jsonl.content_hash == as_json.content_hash != changed.content_hash


def test_token_statistics(tmp_path):
    result, rows = _ingest(tmp_path, _jsonl(ALPACA), "a.jsonl")
    # "Add 2 and 3." -> Add, 2, and, 3, "." = 5 tokens
    assert rows[0]["instruction_tokens"] == 5
    stats = result.token_stats
    assert stats["response_tokens"]["total"] == 2
    assert stats["instruction_tokens"]["max"] == 5  # Translate, to, French, :, cat
    assert stats["total_tokens"] == stats["instruction_tokens"]["total"] + 2
