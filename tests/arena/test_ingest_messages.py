"""Error messages name the real cause: trailing commas, Parquet named .jsonl, the real column, byte offsets."""
from __future__ import annotations

import io
import json

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from arena.ingest.errors import IngestError
from arena.ingest.pipeline import ingest_file
from arena.models import Dataset
from tests.factories import ready_dataset

GOOD = {"instruction": "Add 2 and 3.", "output": "5"}


def _run(tmp_path, data: bytes, name: str, **kwargs):
    path = tmp_path / name
    path.write_bytes(data)
    return ingest_file(path=str(path), filename=name, out_path=str(tmp_path / "o.parquet"), max_record_bytes=1 << 20, **kwargs)


def _error(tmp_path, data: bytes, name: str = "x.jsonl", **kwargs) -> str:
    with pytest.raises(IngestError) as info:
        _run(tmp_path, data, name, **kwargs)
    return str(info.value)


def _parquet() -> bytes:
    sink = io.BytesIO()
    pq.write_table(pa.Table.from_pylist([GOOD, {"instruction": "Say hi.", "output": "hi"}]), sink)
    return sink.getvalue()


def test_trailing_comma_is_called_a_trailing_comma_with_its_column(tmp_path):
    line = '{"instruction": "x", "output": "y",}'
    message = _error(tmp_path, (json.dumps(GOOD) + "\n" + line + "\n").encode())
    assert message == f"line 2: invalid JSON: trailing comma before '}}' (JSON allows no comma after the last item) (column {line.index('}') + 1}, byte {line.index('}')} of the line)"


def test_jsonl_column_is_the_real_column(tmp_path):
    line = '{"instruction": "héllo", "output": tru}'
    message = _error(tmp_path, (line + "\n").encode())
    column = line.rindex("tru") + 1
    assert f"(column {column}, byte {column} of the line)" in message  # é is 2 bytes, 1 column


def test_json_array_errors_give_a_byte_offset(tmp_path):
    text = json.dumps([GOOD, GOOD]) + ""
    broken = text.replace('"output": "5"}]', '"output": "5",}]')
    message = _error(tmp_path, broken.encode(), "x.json")
    offset = broken.encode().index(b",}]") + 1
    assert message.startswith(f"record 2, byte offset {offset}: invalid JSON: trailing comma before '}}'")
    trailing = json.dumps([GOOD, GOOD])[:-1] + ",]"
    message = _error(tmp_path, trailing.encode(), "y.json")
    assert f"byte offset {len(trailing) - 2}: trailing comma before ']'" in message


def test_parquet_named_jsonl_is_read_as_parquet_and_declared_jsonl_is_refused(tmp_path):
    result = _run(tmp_path, _parquet(), "really-parquet.jsonl")
    assert result.file_format == "parquet" and result.sample_count == 2
    message = _error(tmp_path, _parquet(), "really-parquet.jsonl", file_format="jsonl")
    assert message.startswith("this is a Parquet file, not JSONL")


@pytest.mark.parametrize(
    ("head", "kind"),
    [(b"%PDF-1.7\n", "a PDF document"), (b"\x89PNG\r\n\x1a\n", "a PNG image"), (b"SQLite format 3\x00", "an SQLite database")],
)
def test_other_binary_files_are_named(tmp_path, head, kind):
    assert _error(tmp_path, head + b"\x00" * 64, "data.jsonl") == f"this is {kind}, not a dataset file: upload JSONL, a JSON array, Parquet or CSV"


def test_gzip_and_zstd_are_sniffed_whatever_the_name(tmp_path):
    import gzip

    import zstandard

    data = (json.dumps(GOOD) + "\n").encode()
    assert _run(tmp_path, gzip.compress(data), "plain-name.jsonl").compression == "gzip"
    assert _run(tmp_path, zstandard.ZstdCompressor().compress(data), "plain-name.jsonl").compression == "zstd"


def test_a_json_array_named_jsonl_is_read_as_an_array(tmp_path):
    assert _run(tmp_path, json.dumps([GOOD]).encode(), "arr.jsonl").file_format == "json"


@pytest.mark.django_db
def test_near_identical_datasets_are_reported_on_the_page(user, client):
    records = [{"instruction": f"Question {i}?", "output": f"Answer {i}."} for i in range(200)]
    first = ready_dataset(owner=user, name="Original", content="".join(json.dumps(r) + "\n" for r in records))
    near = records[:190] + [{"instruction": f"New {i}?", "output": "x"} for i in range(5)]
    second = ready_dataset(owner=user, name="Near copy", content="".join(json.dumps(r) + "\n" for r in near[::-1]))
    assert second.content_hash != first.content_hash and second.status == Dataset.Status.READY
    html = client.get(f"/datasets/{second.slug}/").content.decode()
    assert 'id="near-duplicates"' in html and "Original" in html and "% of its distinct samples" in html
    unrelated = ready_dataset(owner=user, name="Other", content=json.dumps({"instruction": "z", "output": "z"}) + "\n")
    assert 'id="near-duplicates"' not in client.get(f"/datasets/{unrelated.slug}/").content.decode()


def test_messages_quoting_a_lone_surrogate_stay_storable(tmp_path):
    message = _error(tmp_path, b'{"\\ud800key": 1}\n')
    assert "\\ud800key" in message
    message.encode("utf-8")  # no lone surrogate left: the message can be stored, rendered and sent
