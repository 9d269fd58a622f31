"""Every kind of bad input gets a specific error naming where and what."""
from __future__ import annotations

import gzip
import io
import json
import zipfile

import pytest
import zstandard

from arena.ingest.errors import IngestError
from arena.ingest.pipeline import ingest_file

GOOD = {"instruction": "Add 2 and 3.", "output": "5"}


def _run(tmp_path, data: bytes, name: str = "x.jsonl", *, max_record_bytes: int = 1 << 20, **kwargs):
    path = tmp_path / name
    path.write_bytes(data)
    out = tmp_path / "out.parquet"
    return ingest_file(path=str(path), filename=name, out_path=str(out), max_record_bytes=max_record_bytes, **kwargs)


def _error(tmp_path, data: bytes, name: str = "x.jsonl", **kwargs) -> str:
    with pytest.raises(IngestError) as info:
        _run(tmp_path, data, name, **kwargs)
    assert not (tmp_path / "out.parquet").exists(), "a failed ingest must not leave a partial Parquet file"
    return str(info.value)


def _lines(*records) -> bytes:
    return "".join((r if isinstance(r, str) else json.dumps(r)) + "\n" for r in records).encode()


def test_invalid_utf8_names_the_line_and_byte(tmp_path):
    data = _lines(GOOD) + b'{"instruction": "caf\xe9", "output": "x"}\n'
    message = _error(tmp_path, data)
    assert message.startswith("line 2: invalid UTF-8: byte 0xe9")


def test_invalid_utf8_in_json_array(tmp_path):
    message = _error(tmp_path, b'[{"instruction": "\xff", "output": "x"}]', "x.json")
    assert "invalid UTF-8: byte 0xff" in message and "record 1" in message


def test_truncated_jsonl_line(tmp_path):
    data = _lines(GOOD, GOOD) + b'{"instruction": "Add", "outp'
    assert _error(tmp_path, data).startswith("line 3: truncated JSON")


def test_invalid_json_line(tmp_path):
    assert _error(tmp_path, _lines(GOOD, '{"instruction": nope}')).startswith("line 2: invalid JSON")


def test_truncated_json_array(tmp_path):
    data = json.dumps([GOOD, GOOD]).encode()[:-20]
    message = _error(tmp_path, data, "x.json")
    assert message.startswith("record 2, byte offset ") and ": truncated JSON" in message


def test_unclosed_json_array(tmp_path):
    data = json.dumps([GOOD, GOOD]).encode()[:-1]
    assert "truncated JSON: the array is not closed" in _error(tmp_path, data, "x.json")


def test_line_over_the_size_limit_is_refused_without_reading_it_all(tmp_path):
    huge = json.dumps({"instruction": "x" * 5000, "output": "y"})
    message = _error(tmp_path, _lines(GOOD, huge), max_record_bytes=1000)
    assert message == "line 2: line is longer than the 1,000-byte record limit (ARENA_MAX_RECORD_BYTES)"


def test_record_over_the_size_limit_in_json_array(tmp_path):
    data = json.dumps([GOOD, {"instruction": "x" * 5000, "output": "y"}]).encode()
    assert "record 2, byte offset 49: record is longer than the 1,000-byte record limit" in _error(
        tmp_path, data, "x.json", max_record_bytes=1000
    )


def test_unknown_sample_format_lists_the_keys(tmp_path):
    message = _error(tmp_path, _lines({"question": "q", "answer": "a"}))
    assert message.startswith("line 1: unknown sample format: the record has keys [answer, question]")


def test_unknown_file_format(tmp_path):
    message = _error(tmp_path, b"just some words\nwithout structure\n", "notes.txt")
    assert "cannot tell the file format of 'notes.txt'" in message


def test_unknown_explicit_formats(tmp_path):
    assert "unknown file format 'xml'" in _error(tmp_path, _lines(GOOD), file_format="xml")
    assert "unknown sample format 'dolly'" in _error(tmp_path, _lines(GOOD), sample_format="dolly")


def test_missing_field_with_forced_format(tmp_path):
    message = _error(tmp_path, _lines(GOOD, {"instruction": "no output here"}), sample_format="alpaca")
    assert message == "line 2: missing field 'output' (format alpaca)"


def test_wrong_field_type(tmp_path):
    assert _error(tmp_path, _lines({"instruction": ["a"], "output": "b"})).startswith(
        "line 1: field 'instruction' must be a string, found list"
    )


@pytest.mark.parametrize(
    ("data", "name"),
    [(b"", "x.jsonl"), (b"\n\n  \n", "x.jsonl"), (b"[]", "x.json"), (b"instruction,output\n", "x.csv")],
)
def test_empty_files(tmp_path, data, name):
    message = _error(tmp_path, data, name)
    assert message in ("the file is empty", "the file holds no records")


def test_empty_gzip(tmp_path):
    assert _error(tmp_path, gzip.compress(b""), "x.jsonl.gz") == "the file is empty after decompression"


@pytest.mark.parametrize(
    ("turns", "expected"),
    [
        ([{"from": "robot", "value": "hi"}], "unknown role 'robot'"),
        ([{"from": "gpt", "value": "hi"}, {"from": "human", "value": "yo"}], "must start with a user message"),
        ([{"from": "human", "value": "hi"}], "must end with an assistant reply"),
        (
            [{"from": "human", "value": "a"}, {"from": "human", "value": "b"}, {"from": "gpt", "value": "c"}],
            "two user messages in a row",
        ),
        (
            [{"from": "human", "value": "a"}, {"from": "system", "value": "s"}, {"from": "gpt", "value": "c"}],
            "a system message may only open the conversation",
        ),
        ([{"from": "human", "value": "a"}, {"from": "gpt", "value": "  "}], "the final assistant reply is empty"),
    ],
)
def test_wrong_roles_in_sharegpt(tmp_path, turns, expected):
    message = _error(tmp_path, _lines({"conversations": turns}))
    assert message.startswith("line 1: ") and expected in message


def test_wrong_role_in_openai_messages(tmp_path):
    record = {"messages": [{"role": "human", "content": "hi"}, {"role": "assistant", "content": "yo"}]}
    assert "messages[1] has unknown role 'human'" in _error(tmp_path, _lines(record))


def test_non_text_content_part(tmp_path):
    record = {"messages": [{"role": "user", "content": [{"type": "image_url", "image_url": {}}]}, {"role": "assistant", "content": "x"}]}
    assert "only text content parts are supported, found 'image_url'" in _error(tmp_path, _lines(record))


def test_gzip_bomb_is_refused(tmp_path, settings):
    settings.ARENA_MAX_COMPRESSION_RATIO = 100
    # 64 MiB of blank 1-MiB lines -> ~64 KiB; long lines reach the guard's 16 MiB threshold in a few reads, where
    # 64 Mi empty lines took the line reader a minute.
    bomb = gzip.compress((b" " * (1024 * 1024 - 1) + b"\n") * 64, compresslevel=9)
    message = _error(tmp_path, bomb, "bomb.jsonl.gz")
    assert "decompression ratio exceeds 100:1" in message and "decompression bomb" in message


def test_zstd_absolute_decompressed_limit(tmp_path, settings):
    settings.ARENA_MAX_DECOMPRESSED_BYTES = 1024
    data = zstandard.ZstdCompressor().compress(_lines(*([GOOD] * 100)))
    assert "decompressed data exceeds the 1,024-byte limit" in _error(tmp_path, data, "x.jsonl.zst")


def test_zip_archives_are_refused_with_advice(tmp_path):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("a.jsonl", _lines(GOOD))
    assert "this is a zip archive" in _error(tmp_path, buffer.getvalue(), "a.zip")


def test_corrupt_gzip(tmp_path):
    data = gzip.compress(_lines(*([GOOD] * 200)))
    message = _error(tmp_path, data[: len(data) // 2], "x.jsonl.gz")
    assert "the compressed stream is corrupt or truncated" in message


def test_extension_claims_compression_but_content_is_plain(tmp_path):
    assert "ends in .gz but the content is not gzip-compressed" in _error(tmp_path, _lines(GOOD), "x.jsonl.gz")


def test_parquet_that_is_not_parquet(tmp_path):
    assert "does not start with the Parquet magic bytes" in _error(tmp_path, _lines(GOOD), "x.parquet")


def test_csv_row_with_wrong_column_count(tmp_path):
    data = b"instruction,output\nhi,there\nonly-one-cell\n"
    assert _error(tmp_path, data, "x.csv") == "line 3: expected 2 columns as in the header, found 1"


def test_csv_bad_json_column(tmp_path):
    data = b'messages\n"[{""role"": ""user"""\n'
    assert "column 'messages' must hold JSON" in _error(tmp_path, data, "x.csv")


def test_error_after_many_good_records_still_names_the_line(tmp_path):
    data = _lines(*([GOOD] * 4999), {"instruction": "x"})
    assert _error(tmp_path, data, batch_rows=100).startswith("line 5000: ")
