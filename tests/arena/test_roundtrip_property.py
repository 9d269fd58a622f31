"""Property: any sample, in every sample format x file format x compression, ingests to itself, and every
export (full and a filtered subset, every export format) re-ingests to the same samples and content hash.
An export format that cannot hold a sample refuses it by name instead of dropping a field."""
from __future__ import annotations

import csv
import gzip
import io
import json

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import zstandard
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from arena.errors import InvalidInput
from arena.exports import EXPORT_FORMATS, alpaca_problem, export_record, samples_export_lines
from arena.ingest.pipeline import ingest_file
from arena.ingest.schema import MultisetHash, canonical_json, canonical_sample, sample_hash
from arena.storage import store_file

# Text as datasets have it: any Unicode except lone surrogates and NUL (CSV cannot hold NUL).
TEXT = st.text(st.characters(exclude_categories=("Cs",), exclude_characters="\x00"), max_size=30)
REPLY = TEXT.filter(lambda t: t.strip() != "")
NAME = st.from_regex(r"[a-z_]{1,12}", fullmatch=True)


@st.composite
def tool_exchange(draw) -> list[dict]:
    """assistant(tool_calls) -> one or two tool results."""
    calls = [
        {"id": f"call_{i}", "type": "function",
         "function": {"name": draw(NAME), "arguments": canonical_json({"q": draw(TEXT)})}}
        for i in range(draw(st.integers(1, 2)))
    ]
    turns = [{"role": "assistant", "content": draw(st.sampled_from(["", "Let me check."])),
              "tool_calls": canonical_json(calls)}]
    for call in calls:
        turns.append({"role": "tool", "content": draw(TEXT), "tool_call_id": call["id"], "name": call["function"]["name"]})
    return turns


def _meta(draw) -> dict:
    extra = {}
    if draw(st.booleans()):
        extra["weight"] = draw(st.sampled_from([0.0, 0.5, 1.0, 2.0]))
    if draw(st.booleans()):
        extra["loss"] = draw(st.booleans())
    return extra


@st.composite
def sample(draw, plain: bool = False) -> dict:
    """A normalised sample: optional system prompt and tools, 1-3 exchanges, maybe tool calls and per-turn metadata."""
    messages: list[dict] = []
    for _ in range(draw(st.integers(1, 3))):
        messages.append({"role": "user", "content": draw(REPLY if plain else TEXT)})
        if not plain and draw(st.integers(0, 3)) == 0:
            messages += draw(tool_exchange())
        reply = {"role": "assistant", "content": draw(REPLY)}
        messages.append({**reply, **({} if plain else _meta(draw))})
    tools = ""
    if not plain and draw(st.booleans()):
        tools = canonical_json([{"type": "function", "function": {"name": draw(NAME), "description": draw(TEXT),
                                                                  "parameters": {"type": "object"}}}])
    return {"system": draw(st.sampled_from(["", "You are terse."]) | TEXT), "tools": tools, "messages": messages}


def dataset(*, plain: bool = False) -> st.SearchStrategy[list[dict]]:
    """Samples with ids; ``plain`` ones only (what alpaca can hold) for alpaca uploads."""
    one = sample(plain=True) if plain else st.one_of(sample(), sample(plain=True))
    samples = st.lists(one, min_size=1, max_size=6)
    return samples.map(lambda items: [{**s, "id": f"s{i}"} for i, s in enumerate(items)])


def _csv_cell(value) -> str:
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


def write_file(records: list[dict], *, file_format: str, compression: str) -> bytes:
    if file_format == "jsonl":
        data = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records).encode()
    elif file_format == "json":
        data = json.dumps(records, ensure_ascii=False, indent=1).encode()
    elif file_format == "csv":
        columns = list(dict.fromkeys(key for r in records for key in r))
        out = io.StringIO(newline="")
        writer = csv.writer(out)
        writer.writerow(columns)
        for r in records:
            writer.writerow([_csv_cell(r[c]) if c in r else "" for c in columns])
        data = out.getvalue().encode()
    else:
        sink = io.BytesIO()
        columns = list(dict.fromkeys(key for r in records for key in r))  # from_pylist reads keys off row 1 only
        pq.write_table(pa.Table.from_pylist([{c: r.get(c) for c in columns} for r in records]), sink)
        return sink.getvalue()
    if compression == "gzip":
        return gzip.compress(data)
    if compression == "zstd":
        return zstandard.ZstdCompressor().compress(data)
    return data


def ingest(tmp_path, data: bytes, *, name: str, policy: str = "repair") -> tuple[str, list[dict], object]:
    path = tmp_path / name
    path.write_bytes(data)
    out = tmp_path / (name + ".parquet")
    result = ingest_file(path=str(path), filename=name, out_path=str(out), max_record_bytes=1 << 20, policy=policy)
    rows = pq.read_table(out).to_pylist()
    return str(out), [dict(canonical_sample(system=r["system"], tools=r["tools"], messages=r["messages"]), id=r["id"]) for r in rows], result


def expected_hash(samples: list[dict]) -> str:
    hasher = MultisetHash()
    for s in samples:
        hasher.add(sample_hash(system=s["system"], tools=s["tools"], messages=s["messages"]))
    return hasher.hexdigest()


def representable(samples: list[dict], export_format: str) -> bool:
    return export_format != "alpaca" or all(alpaca_problem(messages=s["messages"], tools=s["tools"]) is None for s in samples)


COMBINATIONS = [
    (sample_format, file_format, compression)
    for sample_format in EXPORT_FORMATS
    for file_format in ("jsonl", "json", "csv", "parquet")
    for compression in (("",) if file_format == "parquet" else ("", "gzip", "zstd"))
]


@pytest.mark.parametrize(("sample_format", "file_format", "compression"), COMBINATIONS)
@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(data=st.data(), keep_bits=st.lists(st.booleans(), min_size=6, max_size=6))
def test_ingest_export_reingest_is_lossless(tmp_path_factory, sample_format, file_format, compression, data, keep_bits):
    tmp_path = tmp_path_factory.mktemp("roundtrip")
    samples = data.draw(dataset(plain=sample_format == "alpaca"), label="samples")
    assert representable(samples, sample_format)
    records = [export_record(sample=s, export_format=sample_format) for s in samples]
    name = f"upload.{file_format}" + {"": "", "gzip": ".gz", "zstd": ".zst"}[compression]
    samples_path, ingested, result = ingest(tmp_path, write_file(records, file_format=file_format, compression=compression), name=name)
    assert ingested == samples
    assert result.content_hash == expected_hash(samples) and result.report["repaired"] == 0

    stored = store_file(local_path=samples_path, name=f"roundtrip/{tmp_path.name}/samples.parquet")
    keep = keep_bits[: len(samples)]
    subset = [s for s, k in zip(samples, keep) if k]
    for export_format in EXPORT_FORMATS:
        for selection, expected in ((None, samples), (keep, subset)):
            if not representable(expected, export_format):
                with pytest.raises(InvalidInput, match=r"cannot be exported as alpaca: .*; export as sharegpt or messages"):
                    b"".join(samples_export_lines(samples_file=stored, export_format=export_format, keep=selection))
                continue
            exported = b"".join(samples_export_lines(samples_file=stored, export_format=export_format, keep=selection))
            if not expected:
                assert exported == b""
                continue
            _, again, again_result = ingest(tmp_path, exported, name=f"export-{export_format}.jsonl")
            assert again == expected, (export_format, selection)
            assert again_result.content_hash == expected_hash(expected)


def test_content_hash_ignores_sample_order(tmp_path):
    records = [{"instruction": f"q{i}", "output": f"a{i}"} for i in range(50)]
    forward = write_file(records, file_format="jsonl", compression="")
    backward = write_file(records[::-1], file_format="json", compression="gzip")
    _, _, first = ingest(tmp_path, forward, name="f.jsonl")
    _, _, second = ingest(tmp_path, backward, name="b.json.gz")
    assert first.content_hash == second.content_hash
    _, _, fewer = ingest(tmp_path, write_file(records[1:], file_format="jsonl", compression=""), name="g.jsonl")
    assert fewer.content_hash != first.content_hash


def test_alpaca_export_refuses_what_it_cannot_hold(tmp_path):
    sample = {"id": "t1", "system": "", "tools": "", "messages": [
        {"role": "user", "content": "weather?"},
        {"role": "assistant", "content": "", "tool_calls": canonical_json([{"id": "c", "type": "function",
                                                                            "function": {"name": "w", "arguments": "{}"}}])},
        {"role": "tool", "content": "sunny", "tool_call_id": "c"},
        {"role": "assistant", "content": "Sunny."},
    ]}
    with pytest.raises(InvalidInput, match=r"sample 't1' cannot be exported as alpaca: message 2 carries tool_calls, which alpaca cannot hold"):
        export_record(sample=sample, export_format="alpaca")
    weighted = {"id": "t2", "system": "", "tools": "", "messages": [
        {"role": "user", "content": "q"}, {"role": "assistant", "content": "a", "weight": 0.0}]}
    with pytest.raises(InvalidInput, match=r"message 2 carries weight, which alpaca cannot hold"):
        export_record(sample=weighted, export_format="alpaca")
    assert export_record(sample=weighted, export_format="messages")["messages"][1] == {"role": "assistant", "content": "a", "weight": 0.0}
