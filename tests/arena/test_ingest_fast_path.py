"""The column-wise JSONL path (arena.ingest.fast) gives exactly what the record path gives, only faster."""
from __future__ import annotations

import json
import random
import unicodedata

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from arena.ingest import fast, pipeline
from arena.ingest.errors import IngestError
from arena.ingest.formats import Sample
from arena.ingest.pipeline import ingest_file
from arena.ingest.schema import MESSAGE_TYPE, SAMPLE_SCHEMA, count_tokens, qa_views, with_qa_views

ALL_CHARS = [chr(i) for i in range(0x110000) if not 0xD800 <= i < 0xE000]
WORDS = "the model café naïve данные μοντέλο 数据 模型 データ بيانات 🙂 ∑ , . ! ? 42 3.14 x_y a\u0301 \u00a0 \u2028 \u3000".split(" ")


def test_token_pattern_counts_every_code_point_as_python_re_does():
    got = fast.count_tokens_array(pa.array(ALL_CHARS)).tolist()
    wrong = [hex(ord(c)) for c, n in zip(ALL_CHARS, got) if n != count_tokens(c)]
    assert wrong == []
    in_words = [f"a{c}a" for c in ALL_CHARS]  # 1 token (word), 2 (space) or 3 (punctuation): classes must agree
    got = fast.count_tokens_array(pa.array(in_words)).tolist()
    wrong = [hex(ord(w[1])) for w, n in zip(in_words, got) if n != count_tokens(w)]
    assert wrong == []
    mixed = ["".join(random.Random(seed).choices(ALL_CHARS[:0x3000] + [" ", "_", "\n"], k=200)) for seed in range(200)]
    assert fast.count_tokens_array(pa.array(mixed)).tolist() == [count_tokens(t) for t in mixed]


def test_stored_unicode_classes_are_this_pythons():
    from arena.ingest import _unicode_tables, unicode_classes

    if _unicode_tables.UNIDATA_VERSION == unicodedata.unidata_version:
        assert (_unicode_tables.WORD, _unicode_tables.SPACE) == unicode_classes.compute()
    assert unicode_classes.classes() == unicode_classes.compute()


def test_json_literals_escape_every_code_point_as_json_dumps_does():
    texts = ALL_CHARS + ['a"b\\c\n\t\r\b\f\x00\x1f\x7f', ""]
    got = fast.json_literals(pa.array(texts)).to_list()
    wrong = [repr(t) for t, g in zip(texts, got) if g != json.dumps(t, ensure_ascii=False)]
    assert wrong == []


def _text(rng: random.Random) -> str:
    return rng.choice(WORDS[:8]) + " " + " ".join(rng.choices(WORDS, k=rng.randint(0, 12)))


def _alpaca(rng: random.Random, n: int) -> dict:
    record = {"instruction": _text(rng), "input": _text(rng) if n % 3 == 0 else "", "output": _text(rng)}
    if n % 4 == 0:
        record["system"] = _text(rng)
    if n % 5 == 0:
        record["instruction"] = ""  # prompt is the input alone
        record["input"] = _text(rng)
    if n % 7 == 0:
        record["id"] = f"a{n}"
    return record


def _sharegpt(rng: random.Random, n: int) -> dict:
    turns = [{"from": "system", "value": _text(rng)}] if n % 3 == 0 else []
    for t in range(1 + n % 3):
        turns += [{"from": "HUMAN" if t else "human", "value": "" if t == 2 else _text(rng)},
                  {"from": "gpt", "value": _text(rng)}]
    record = {"conversations": turns}
    if n % 4 == 0:
        record["id"] = f"s{n}" if n % 8 else ""
    if n % 5 == 0 and not turns[0]["from"] == "system":
        record["system"] = _text(rng)
    return record


def _messages(rng: random.Random, n: int) -> dict:
    turns = [{"role": "developer", "content": _text(rng)}] if n % 2 else []
    turns += [{"role": "user", "content": _text(rng)}, {"role": "assistant", "content": _text(rng)}]
    return {"messages": turns, "id": f"m{n}"}


DIRTY = {
    "alpaca": ['{"instruction": "", "input": "", "output": "x"}', '{"instruction": "q", "output": " "}',
               '{"instruction": "q", "output": "a", "extra": 1}', '{"instruction": "q\\ud800", "output": "a"}'],
    "sharegpt": ['{"conversations": [{"from": "gpt", "value": "a"}]}', '{"conversations": [{"from": "bot", "value": "q"}, '
                 '{"from": "gpt", "value": "a"}]}', '{"conversations": [{"from": "human", "value": "q"}, '
                 '{"from": "gpt", "value": "a", "weight": 0}]}', "{not json"],
    "messages": ['{"messages": [{"role": "user", "content": "q"}, {"role": "user", "content": "q2"}, '
                 '{"role": "assistant", "content": "a"}]}', '{"messages": [{"role": "user", "content": [{"type": '
                 '"text", "text": "q"}]}, {"role": "assistant", "content": "a"}]}', '[1, 2]'],
}
MAKERS = {"alpaca": _alpaca, "sharegpt": _sharegpt, "messages": _messages}


def _write(path, fmt: str, *, n: int, dirty: bool, seed: int = 0) -> None:
    rng = random.Random(seed)
    lines = [json.dumps(MAKERS[fmt](rng, i), ensure_ascii=i % 2 == 0) for i in range(n)]
    if dirty:
        for k, line in enumerate(DIRTY[fmt]):
            lines.insert(37 * (k + 1) % len(lines), line)
        lines.insert(55, "")  # a blank line
        lines.insert(90, "   ")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def _both(path, tmp_path, *, policy: str, monkeypatch) -> tuple[list, list[bool]]:
    monkeypatch.setattr(pipeline, "_BLOCK_BYTES", 1500)  # many blocks: clean ones fast, dirty ones record by record
    taken = []  # per block: whether it went column-wise
    parse, normalise = fast.parse_block, fast.normalise_table

    def parse_spy(*args, **kwargs):
        table = parse(*args, **kwargs)
        if table is None:
            taken.append(False)
        return table

    def normalise_spy(*args, **kwargs):
        block = normalise(*args, **kwargs)
        taken.append(block is not None)
        return block

    monkeypatch.setattr(fast, "parse_block", parse_spy)
    monkeypatch.setattr(fast, "normalise_table", normalise_spy)
    out = []
    for fast_path in (True, False):
        target = tmp_path / f"out-{fast_path}.parquet"
        result = ingest_file(
            path=str(path), filename="data.jsonl", out_path=str(target), max_record_bytes=1 << 20,
            policy=policy, rejects_path=str(tmp_path / f"rejects-{fast_path}.gz"), batch_rows=50, fast_path=fast_path,
        )
        out.append((result, pq.read_table(target)))
    assert sum(taken) >= 5  # the fast path did run (on most blocks)
    return out, taken


@pytest.mark.parametrize("fmt", ["alpaca", "sharegpt", "messages"])
@pytest.mark.parametrize("dirty", [False, True])
def test_fast_path_writes_the_same_samples_hash_and_statistics(tmp_path, monkeypatch, fmt, dirty):
    path = tmp_path / "data.jsonl"
    _write(path, fmt, n=300, dirty=dirty)
    ((fast_result, fast_table), (slow_result, slow_table)), taken = _both(
        path, tmp_path, policy="repair", monkeypatch=monkeypatch
    )
    assert all(taken) != dirty  # dirty blocks went record by record
    assert fast_table.schema.equals(SAMPLE_SCHEMA)
    assert fast_table.equals(slow_table)
    assert fast_result == slow_result
    if dirty:
        assert fast_result.report["rejected"] >= 1
    else:
        assert fast_result.sample_count == 300 and fast_result.report["rejected"] == 0


@pytest.mark.parametrize("fmt", ["alpaca", "sharegpt"])
def test_clean_blocks_take_the_fast_path(tmp_path, fmt):
    path = tmp_path / "data.jsonl"
    _write(path, fmt, n=200, dirty=False)
    block = path.read_bytes()
    done = fast.normalise_block(block, sample_format=fmt, first_line=10, first_idx=5, max_record_bytes=1 << 20)
    assert done is not None and done.table.num_rows == 200
    assert done.table.column("source")[0].as_py() == "line 10" and done.table.column("idx")[0].as_py() == 5


@pytest.mark.parametrize(
    "block",
    [b'{"instruction": "q", "output": "a"}\n\n{"instruction": "q", "output": "a"}\n',  # blank line
     b'{"instruction": "q", "output": "a"} {"instruction": "q", "output": "a"}\n',  # two records on a line
     b'{"instruction": "q", "output": "\xff"}\n',  # invalid UTF-8
     b'{"instruction": "q\\udc00", "output": "a"}\n',  # lone surrogate
     b'{"instruction": 3, "output": "a"}\n',
     b'{"instruction": "q", "output": "a", "history": []}\n',
     b'{"instruction": "q", "output": "a"}\n{"instruction": "q", "output": "a", "x": ' + b"[" * 50_000 + b"]" * 50_000
     + b"}\n"],  # the JSON reader would overflow its stack: never handed such a line
)
def test_unclean_blocks_go_record_by_record(block):
    assert fast.normalise_block(block, sample_format="alpaca", first_line=1, first_idx=0, max_record_bytes=1 << 20) is None


def test_strict_errors_are_the_record_paths(tmp_path, monkeypatch):
    path = tmp_path / "data.jsonl"
    rng = random.Random(1)
    lines = [json.dumps(_sharegpt(rng, i)) for i in range(120)]
    lines[97] = '{"conversations": [{"from": "human", "value": "q"}, {"from": "narrator", "value": "a"}]}'
    path.write_text("\n".join(lines) + "\n")
    monkeypatch.setattr(pipeline, "_BLOCK_BYTES", 2000)
    messages = []
    for fast_path in (True, False):
        with pytest.raises(IngestError) as caught:
            ingest_file(path=str(path), filename="d.jsonl", out_path=str(tmp_path / "o.parquet"),
                        max_record_bytes=1 << 20, fast_path=fast_path)
        messages.append(str(caught.value))
        assert not (tmp_path / "o.parquet").exists()
    assert messages[0] == messages[1] and "line 98" in messages[0] and "narrator" in messages[0]


def test_record_size_limit_still_applies(tmp_path):
    path = tmp_path / "data.jsonl"
    path.write_text(json.dumps({"instruction": "q" * 5000, "output": "a"}) + "\n")
    with pytest.raises(IngestError, match="record limit"):
        ingest_file(path=str(path), filename="d.jsonl", out_path=None, max_record_bytes=1000)


CONVERSATIONS = [
    [{"role": "user", "content": "q"}, {"role": "assistant", "content": "a"}],
    [{"role": "user", "content": "q1"}, {"role": "assistant", "content": "a1"}, {"role": "user", "content": ""},
     {"role": "assistant", "content": "a2"}],
    [{"role": "user", "content": "q"}, {"role": "assistant", "content": "", "tool_calls": "[]"},
     {"role": "tool", "content": "r", "name": "f"}, {"role": "assistant", "content": "fin"}],
]


def test_qa_views_are_the_sample_instruction_and_response():
    array = pa.array(CONVERSATIONS * 3, pa.list_(MESSAGE_TYPE)).slice(1, 7)
    instruction, response = qa_views(array)
    expected = [Sample(id="", system="", messages=m) for m in (CONVERSATIONS * 3)[1:8]]
    assert instruction.to_pylist() == [s.instruction for s in expected]
    assert response.to_pylist() == [s.response for s in expected]


def test_instruction_tokens_count_the_instruction_view(tmp_path):
    path = tmp_path / "data.jsonl"
    _write(path, "sharegpt", n=60, dirty=False)
    for fast_path in (True, False):
        out = tmp_path / f"o{fast_path}.parquet"
        ingest_file(path=str(path), filename="d.jsonl", out_path=str(out), max_record_bytes=1 << 20, fast_path=fast_path)
        table = pq.read_table(out)
        batch = with_qa_views(table.to_batches()[0], columns=["instruction", "response", "instruction_tokens",
                                                             "response_tokens"])
        rows = batch.to_pylist()
        assert [count_tokens(r["instruction"]) for r in rows] == [r["instruction_tokens"] for r in rows]
        assert [count_tokens(r["response"]) for r in rows] == [r["response_tokens"] for r in rows]


def test_old_files_with_stored_instruction_columns_are_read_as_stored(tmp_path):
    from arena.storage import iter_parquet_batches

    old = tmp_path / "old.parquet"
    messages = pa.array(CONVERSATIONS, pa.list_(MESSAGE_TYPE))
    pq.write_table(pa.table({"idx": [0, 1, 2], "messages": messages, "instruction": ["Q0", "Q1", "Q2"],
                             "response": ["A0", "A1", "A2"]}), old)
    new = tmp_path / "new.parquet"
    pq.write_table(pa.table({"idx": [0, 1, 2], "messages": messages}), new)
    columns = ["idx", "response", "instruction"]
    (old_batch,) = iter_parquet_batches(pq.ParquetFile(old), columns=columns)
    (new_batch,) = iter_parquet_batches(pq.ParquetFile(new), columns=columns)
    assert old_batch.to_pydict() == {"idx": [0, 1, 2], "response": ["A0", "A1", "A2"], "instruction": ["Q0", "Q1", "Q2"]}
    samples = [Sample(id="", system="", messages=m) for m in CONVERSATIONS]
    assert new_batch.schema.names == columns
    assert new_batch.to_pydict() == {"idx": [0, 1, 2], "response": [s.response for s in samples],
                                     "instruction": [s.instruction for s in samples]}
    (whole_row,) = iter_parquet_batches(pq.ParquetFile(new))  # no column list: the views come too
    assert whole_row.schema.names == ["idx", "messages", "instruction", "response"]
    assert whole_row.column("response").to_pylist() == [s.response for s in samples]
