"""Exports load in the tools they are made for.

* HF ``datasets``: ``load_dataset("json", ...)`` on every export format, with a small ``chunksize`` so the
  schema inferred from the first block must hold for the later ones (the optional fields first appear after
  the first ``LEADING_RECORDS`` records here).
* LLaMA-Factory (too heavy to install here): its documented dataset_info.json schema (data/README.md) and the
  rules of its loader and converters (src/llamafactory/data/parser.py and converter.py) are written out in
  ``llama_factory_problems``: only known entry keys and columns, every declared column present in every row,
  sharegpt turns alternating user/observation with assistant/function_call after an optional system turn,
  ``function_call`` values that its tool formatter parses, ``tools`` as a JSON string.
"""

from __future__ import annotations

import io
import json

import datasets
import pytest
from rest_framework.test import APIClient

from arena.client.cli import dataset_info_name
from arena.exports import LEADING_RECORDS
from arena.services import dataset_register

ENTRY_KEYS = {"file_name", "formatting", "ranking", "subset", "split", "folder", "num_samples", "columns", "tags"}
COMMON_COLUMNS = {"system", "tools", "images", "videos", "audios", "chosen", "rejected", "kto_tag"}
FORMAT_COLUMNS = {"alpaca": {"prompt", "query", "response", "history"}, "sharegpt": {"messages"}}
TAG_DEFAULTS = {"role_tag": "from", "content_tag": "value", "user_tag": "human", "assistant_tag": "gpt",
                "observation_tag": "observation", "function_tag": "function_call", "system_tag": "system"}


def llama_factory_problems(entry: dict, rows: list[dict]) -> list[str]:
    """What LLaMA-Factory's loader would trip over in ``rows`` described by one dataset_info ``entry``."""
    problems = [f"unknown entry key {k!r}" for k in set(entry) - ENTRY_KEYS]
    formatting = entry.get("formatting", "alpaca")
    if formatting not in FORMAT_COLUMNS:
        return problems + [f"formatting {formatting!r}"]
    columns = entry.get("columns", {})
    problems += [f"unknown column {c!r}" for c in set(columns) - COMMON_COLUMNS - FORMAT_COLUMNS[formatting]]
    defaults = {"prompt": "instruction", "query": "input", "response": "output"} if formatting == "alpaca" else {"messages": "conversations"}
    used = {**defaults, **columns}
    for number, row in enumerate(rows):
        missing = [name for name in used.values() if name not in row]
        if missing:
            problems.append(f"row {number} lacks column(s) {missing} (KeyError in the converter)")
            continue
        if "tools" in columns and not isinstance(row[columns["tools"]], str):
            problems.append(f"row {number}: tools must be a JSON string")
        if formatting == "alpaca":
            history = row.get(columns["history"]) if "history" in columns else []
            if not all(isinstance(pair, list) and len(pair) == 2 and all(isinstance(t, str) for t in pair) for pair in history):
                problems.append(f"row {number}: history must be [prompt, response] pairs")
            continue
        tags = {**TAG_DEFAULTS, **entry.get("tags", {})}
        turns = row[used["messages"]]
        if turns and turns[0][tags["role_tag"]] == tags["system_tag"]:
            turns = turns[1:]
        accept = ((tags["user_tag"], tags["observation_tag"]), (tags["assistant_tag"], tags["function_tag"]))
        for index, turn in enumerate(turns):
            role = turn.get(tags["role_tag"])
            if role not in accept[index % 2]:
                problems.append(f"row {number} turn {index}: role {role!r} where {accept[index % 2]} are accepted")
                break
            if not isinstance(turn.get(tags["content_tag"]), str):
                problems.append(f"row {number} turn {index}: content must be a string")
            if role == tags["function_tag"]:
                calls = json.loads(turn[tags["content_tag"]])
                calls = calls if isinstance(calls, list) else [calls]
                if not all(isinstance(c, dict) and "name" in c and "arguments" in c for c in calls):
                    problems.append(f"row {number} turn {index}: function_call value is not name/arguments JSON")
        if len(turns) % 2:
            problems.append(f"row {number}: odd number of turns")
    return problems


def _plain(i: int) -> dict:
    return {"id": f"p{i}", "messages": [{"role": "user", "content": f"question {i}"},
                                        {"role": "assistant", "content": f"answer {i}"}]}


def _with_tools(i: int) -> dict:
    call = [{"id": f"c{i}", "type": "function", "function": {"name": "lookup", "arguments": json.dumps({"n": i})}}]
    return {
        "id": f"t{i}",
        "tools": [{"type": "function", "function": {"name": "lookup", "parameters": {"type": "object"}}}],
        "messages": [
            {"role": "system", "content": "Use the tool."},
            {"role": "user", "content": f"Look up {i}."},
            {"role": "assistant", "content": None, "tool_calls": call},
            {"role": "tool", "content": json.dumps({"n": i}), "tool_call_id": f"c{i}", "name": "lookup"},
            {"role": "assistant", "content": f"Item {i} found.", "weight": 0.5},
        ],
    }


def _multi_turn(i: int) -> dict:
    return {"id": f"m{i}", "messages": [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": f"hi {i}"}, {"role": "assistant", "content": "hello"},
        {"role": "user", "content": f"bye {i}"}, {"role": "assistant", "content": "bye"},
    ]}


def _register(owner, records, name):
    upload = io.BytesIO("".join(json.dumps(r) + "\n" for r in records).encode())
    dataset = dataset_register(owner=owner, upload=upload, filename=f"{name}.jsonl", name=name, ingest_now=True)
    assert dataset.status == "ready", dataset.error
    return dataset


def _export(slug: str, fmt: str) -> bytes:
    response = APIClient().get(f"/api/v1/datasets/{slug}/export/", {"format": fmt})
    assert response.status_code == 200, response.content
    return b"".join(response.streaming_content)


def _hf_load(path, tmp_path) -> datasets.Dataset:
    datasets.disable_progress_bars()
    return datasets.load_dataset("json", data_files=str(path), split="train", chunksize=4096,
                                 cache_dir=str(tmp_path / "hf-cache"))


@pytest.fixture
def late_fields(user):
    """Optional fields (system prompts, earlier turns, tool calls and results, weights) appear only after
    LEADING_RECORDS plain samples: a loader that fixed its schema on the first block would fail."""
    n = LEADING_RECORDS + 40
    alpaca = _register(user, [_plain(i) for i in range(n)] + [_multi_turn(i) for i in range(30)], "late-history")
    tools = _register(user, [_plain(i) for i in range(n)] + [_with_tools(i) for i in range(30)], "late-tools")
    return {"alpaca": alpaca, "tools": tools}


@pytest.mark.django_db
@pytest.mark.parametrize(("which", "fmt"), [("alpaca", "alpaca"), ("alpaca", "sharegpt"), ("alpaca", "messages"),
                                            ("tools", "sharegpt"), ("tools", "messages")])
def test_every_export_loads_with_hf_datasets_and_llama_factory_rules(late_fields, tmp_path, which, fmt):
    dataset = late_fields[which]
    body = _export(dataset.slug, fmt)
    rows = [json.loads(line) for line in body.splitlines()]
    assert len(rows) == dataset.sample_count
    assert len({tuple(sorted(r)) for r in rows}) == 1  # the same keys in every row
    path = tmp_path / f"{dataset.slug}.{fmt}.jsonl"
    path.write_bytes(body)
    loaded = _hf_load(path, tmp_path)
    assert loaded.num_rows == dataset.sample_count
    assert sorted(loaded["id"]) == sorted(r["id"] for r in rows)

    info = APIClient().get(f"/api/v1/datasets/{dataset.slug}/export/dataset_info/", {"format": fmt})
    if which == "tools" and fmt == "messages":  # LLaMA-Factory would drop OpenAI tool calls: refused, with the way out
        assert info.status_code == 400 and "sharegpt export" in info.json()["error"]
        return
    assert info.status_code == 200, info.json()
    (entry,) = info.json().values()
    assert entry["file_name"] == path.name
    assert llama_factory_problems(entry, rows) == []


@pytest.mark.django_db
def test_tool_calls_are_kept_in_each_format(late_fields, tmp_path):
    dataset = late_fields["tools"]
    share = [json.loads(line) for line in _export(dataset.slug, "sharegpt").splitlines()]
    tool_row = next(r for r in share if r["id"] == "t3")
    roles = [t["from"] for t in tool_row["conversations"]]
    assert roles == ["system", "human", "function_call", "observation", "gpt"]
    assert json.loads(tool_row["conversations"][2]["value"]) == {"name": "lookup", "arguments": {"n": 3}}
    assert tool_row["conversations"][3]["tool_call_id"] == "c3"
    assert json.loads(tool_row["tools"])[0]["function"]["name"] == "lookup"
    plain_row = next(r for r in share if r["id"] == "p0")
    assert plain_row["conversations"][0] == {"from": "human", "value": "question 0", "tool_calls": None,
                                             "tool_call_id": None, "name": None, "weight": None}

    msgs = [json.loads(line) for line in _export(dataset.slug, "messages").splitlines()]
    tool_row = next(r for r in msgs if r["id"] == "t3")
    assert tool_row["messages"][2]["tool_calls"][0]["function"] == {"name": "lookup", "arguments": json.dumps({"n": 3})}
    assert tool_row["messages"][3]["role"] == "tool" and tool_row["tools"][0]["function"]["name"] == "lookup"
    assert next(r for r in msgs if r["id"] == "p0")["tools"] == []

    # The sharegpt export re-imports to the same samples (same content hash), tool calls included.
    for fmt in ("sharegpt", "messages"):
        again = dataset_register(owner=dataset.owner, upload=io.BytesIO(_export(dataset.slug, fmt)),
                                 filename=f"again.{fmt}.jsonl", name=f"again {fmt}", ingest_now=True)
        assert again.status == "failed" and "identical content already registered" in again.error


@pytest.mark.django_db
def test_llama_factory_function_call_turns_are_read_as_tool_calls(user):
    record = {"conversations": [
        {"from": "human", "value": "Weather in Paris?"},
        {"from": "function_call", "value": json.dumps({"name": "weather", "arguments": {"city": "Paris"}})},
        {"from": "observation", "value": "sunny"},
        {"from": "gpt", "value": "Sunny."},
    ]}
    dataset = _register(user, [record], "lf-tools")
    from arena.storage import iter_batches

    (row,) = next(iter(iter_batches(dataset.samples_file, columns=["messages"], batch_size=10))).to_pylist()
    call = row["messages"][1]
    assert call["role"] == "assistant" and call["content"] == ""
    assert json.loads(call["tool_calls"]) == [{"type": "function", "function": {"name": "weather", "arguments": '{"city":"Paris"}'}}]


def test_dataset_info_entries_accumulate():
    info: dict = {}
    for fmt, file_name in (("alpaca", "calc.alpaca.jsonl"), ("sharegpt", "calc.sharegpt.jsonl"),
                           ("alpaca", "calc.alpaca.jsonl"), ("alpaca", "other.jsonl")):
        name = dataset_info_name(info, slug="calc", export_format=fmt, file_name=file_name)
        info[name] = {"file_name": file_name, "formatting": fmt}
    assert info == {
        "calc": {"file_name": "calc.alpaca.jsonl", "formatting": "alpaca"},  # re-exporting the same file keeps its entry
        "calc-sharegpt": {"file_name": "calc.sharegpt.jsonl", "formatting": "sharegpt"},
        "calc-alpaca": {"file_name": "other.jsonl", "formatting": "alpaca"},
    }
