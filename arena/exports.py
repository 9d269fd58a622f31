"""Export a ready dataset as JSONL in alpaca, sharegpt or OpenAI-messages form, plus its LLaMA-Factory entry.

Exports stream the normalised Parquet file batch by batch (``arena.storage.iter_batches``), so memory
stays flat whatever the dataset size. Each exported record re-imports to the same normalised sample
(same ``content_hash``). No field is dropped silently: a format that cannot represent a sample (alpaca
has no tool calls, tool definitions or per-turn weights) is refused before the first byte is sent,
naming the sample and the field: the download never stops half-way through.

Exports load in the tools they are for: every record of a file has the same keys and types (see
``ExportShape``), tool calls are LLaMA-Factory ``function_call``/``observation`` turns in sharegpt and OpenAI
``tool_calls``/``tool`` messages in messages, and the ``dataset_info.json`` entry declares only columns the
file has. tests/client/test_export_loaders.py loads every format with HF ``datasets`` and checks the entries
against LLaMA-Factory's documented dataset_info schema and converter rules.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

from arena.errors import Conflict, InvalidInput
from arena.models import Dataset
from arena.ingest.formats import SAMPLE_FORMATS
from arena.ingest.schema import OPTIONAL_MESSAGE_FIELDS
from arena.storage import iter_batches, open_parquet

EXPORT_FORMATS = SAMPLE_FORMATS  # every sample format Arena reads it also writes (arena/ingest/sample_formats/)

SHAREGPT_TAGS = {"user": "human", "assistant": "gpt", "tool": "observation", "system": "system"}

_BATCH_ROWS = 1000
# A sample that first shows an optional field (earlier turns, tool calls, weights...) after this many records
# is exported first, so that the first block a loader infers its schema from has every column's type.
LEADING_RECORDS = 64


def export_format_check(*, export_format: str) -> str:
    if export_format not in EXPORT_FORMATS:
        raise InvalidInput(f"unknown export format {export_format!r}; expected one of {', '.join(EXPORT_FORMATS)}")
    return export_format


def _ready_samples_file(dataset: Dataset) -> str:
    if dataset.status != Dataset.Status.READY or not dataset.samples_file:
        raise Conflict(f"dataset {dataset.slug!r} is not ready to export (status {dataset.status})")
    return dataset.samples_file


def alpaca_problem(*, messages: list[dict], tools: str = "") -> str | None:
    """Why a sample cannot be written as one alpaca record (instruction/output + history pairs), or None.

    Alpaca has no place for tool calls, tool results, tool definitions or per-turn weight/loss: a sample
    that carries any of them is refused rather than exported without them.
    """
    if tools:
        return "it offers tool definitions, which alpaca cannot hold"
    if len(messages) % 2:
        return "it has an odd number of messages, so they do not form user/assistant pairs"
    for position, message in enumerate(messages, start=1):
        expected = "user" if position % 2 else "assistant"
        if message["role"] != expected:
            return f"message {position} has role {message['role']!r} where alpaca needs {expected!r}"
        carried = [key for key in OPTIONAL_MESSAGE_FIELDS if message.get(key) is not None]
        if carried:
            return f"message {position} carries {', '.join(carried)}, which alpaca cannot hold"
    if not messages[-2]["content"].strip():
        return "its final user message is empty"
    return None


def _json_or_text(text: str) -> object:
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return text


def llama_factory_calls(tool_calls: str) -> str:
    """The value of a LLaMA-Factory ``function_call`` turn for OpenAI ``tool_calls`` (canonical JSON text):
    ``{"name", "arguments"}`` for one call, a list of them for parallel calls (LLaMA-Factory's tool formatter
    reads both), arguments as a JSON object when they parse as one."""
    calls = _json_or_text(tool_calls)
    if not isinstance(calls, list):
        return tool_calls
    converted = []
    for call in calls:
        function = call.get("function", call) if isinstance(call, dict) else {}
        arguments = function.get("arguments", {})
        if isinstance(arguments, str):
            arguments = _json_or_text(arguments)
        converted.append({"name": function.get("name", ""), "arguments": arguments})
    return json.dumps(converted[0] if len(converted) == 1 else converted, ensure_ascii=False)


@dataclass
class ExportShape:
    """What the exported samples carry, decided before the first record so every record has the same keys
    and types (loaders such as HF ``datasets`` fix the schema from the first block of the file):

    ``system``/``tools``/``history``: some sample has a system prompt / tool definitions / earlier turns;
    ``turn_keys``: the optional message fields some message carries (every turn then carries all of them,
    null where unset); ``call_text``: some tool-calling assistant turn also has text (sharegpt keeps it in
    the turn's ``content`` key, since LLaMA-Factory's ``function_call`` value is the calls' JSON);
    ``witnesses``: the first sample showing each of these, when it comes after the first ``LEADING_RECORDS``
    records (exported first, so the first block has every column's type).
    """

    system: bool = False
    tools: bool = False
    history: bool = False
    turn_keys: tuple[str, ...] = ()
    call_text: bool = False
    witnesses: dict[int, dict] = field(default_factory=dict)

    @property
    def has_tool_calls(self) -> bool:
        return "tool_calls" in self.turn_keys


def _features(sample: dict) -> set[str]:
    messages = sample["messages"]
    found = set()
    if sample.get("system"):
        found.add("system")
    if sample.get("tools"):
        found.add("tools")
    if len(messages) > 2:
        found.add("history")
    for message in messages:
        found.update(key for key in OPTIONAL_MESSAGE_FIELDS if message.get(key) is not None)
        if message.get("tool_calls") is not None and (message.get("content") or ""):
            found.add("call_text")
    return found


def _shape(features: set[str], witnesses: dict[int, dict] | None = None) -> ExportShape:
    return ExportShape(
        system="system" in features,
        tools="tools" in features,
        history="history" in features,
        turn_keys=tuple(key for key in OPTIONAL_MESSAGE_FIELDS if key in features),
        call_text="call_text" in features,
        witnesses=witnesses or {},
    )


def _turn(message: dict, *, role_key: str, role: str, content_key: str, shape: ExportShape) -> dict:
    turn = {role_key: role, content_key: message.get("content") or ""}
    for key in shape.turn_keys:
        value = message.get(key)
        turn[key] = _json_or_text(value) if key == "tool_calls" and value is not None else value
    return turn


def _sharegpt_turn(message: dict, *, shape: ExportShape) -> dict:
    calls = message.get("tool_calls")
    if message["role"] == "assistant" and calls is not None:
        turn = _turn(message, role_key="from", role="function_call", content_key="value", shape=shape)
        turn["value"] = llama_factory_calls(calls)
    else:
        turn = _turn(message, role_key="from", role=SHAREGPT_TAGS[message["role"]], content_key="value", shape=shape)
    if shape.call_text:
        turn["content"] = (message.get("content") or "") if calls is not None else None
    return turn


def export_record(*, sample: dict, export_format: str, shape: ExportShape | None = None) -> dict:
    """One normalised sample (``id``, ``system``, ``messages``, ``tools``) in the requested format.

    ``shape`` (from ``export_shape``) gives every record of a file the same keys; without it, the record
    carries what this sample needs. sharegpt and messages keep every field of the normalised schema: tool
    calls as LLaMA-Factory ``function_call`` turns (the OpenAI ``tool_calls`` kept beside them) and tool
    results as ``observation`` turns (sharegpt), or as OpenAI ``tool_calls`` and ``tool`` messages (messages);
    weight and loss as extra keys of a turn, ``tools`` at the top level. alpaca refuses a sample it cannot hold.
    """
    messages, system, tools = sample["messages"], sample.get("system") or "", sample.get("tools") or ""
    shape = shape or _shape(_features(sample))
    if export_format == "alpaca":
        problem = alpaca_problem(messages=messages, tools=tools)
        if problem:
            raise InvalidInput(f"sample {sample['id']!r} cannot be exported as alpaca: {problem}")
        pairs = [[messages[i]["content"], messages[i + 1]["content"]] for i in range(0, len(messages), 2)]
        record = {"id": sample["id"], "instruction": pairs[-1][0], "input": "", "output": pairs[-1][1]}
        if shape.system:
            record["system"] = system
        if shape.history:
            record["history"] = pairs[:-1]
        return record
    if export_format == "sharegpt":
        turns = [_sharegpt_turn({"role": "system", "content": system}, shape=shape)] if system else []
        turns += [_sharegpt_turn(m, shape=shape) for m in messages]
        record = {"id": sample["id"], "conversations": turns}
        if shape.tools:
            record["tools"] = tools  # LLaMA-Factory's sharegpt keeps tool definitions as a JSON string
        return record
    if export_format == "messages":
        opening = [{"role": "system", "content": system}] if system else []
        record = {
            "id": sample["id"],
            "messages": [
                _turn(m, role_key="role", role=m["role"], content_key="content", shape=shape) for m in opening + messages
            ],
        }
        if shape.tools:
            record["tools"] = _json_or_text(tools) if tools else []
        return record
    raise InvalidInput(f"unknown export format {export_format!r}; expected one of {', '.join(EXPORT_FORMATS)}")


def _columns(samples_file: str) -> list[str]:
    """The sample columns an export needs (files ingested before tools were kept have no ``tools`` column)."""
    present = set(open_parquet(samples_file).schema_arrow.names)
    return [c for c in ("idx", "id", "system", "messages", "tools") if c in present]


def _selected(batch_rows: list[dict], keep: Sequence[bool] | None) -> list[dict]:
    return batch_rows if keep is None else [row for row in batch_rows if keep[row["idx"]]]


def export_shape(*, samples_file: str, export_format: str, keep: Sequence[bool] | None = None) -> ExportShape:
    """One streaming pass over the (selected) samples: the shape every record will have, and for alpaca the
    refusal, before the first byte, of any sample it cannot represent."""
    features: set[str] = set()
    witnesses: dict[int, dict] = {}
    position = -1
    for batch in iter_batches(samples_file, columns=_columns(samples_file), batch_size=_BATCH_ROWS):
        for row in _selected(batch.to_pylist(), keep):
            position += 1
            if export_format == "alpaca":
                problem = alpaca_problem(messages=row["messages"], tools=row.get("tools") or "")
                if problem:
                    raise InvalidInput(
                        f"sample {row['id']!r} cannot be exported as alpaca: {problem}; export as sharegpt or messages"
                    )
            new = _features(row) - features
            if new:
                features |= new
                if new - {"system"} and position >= LEADING_RECORDS:  # a system prompt is a string either way
                    witnesses[row["idx"]] = row
    return _shape(features, witnesses)


def samples_export_lines(
    *, samples_file: str, export_format: str, keep: Sequence[bool] | None = None, witnesses_first: bool = True
) -> Iterator[bytes]:
    """Validate, then return an iterator of JSONL lines (bytes) for the samples of a stored sample file.

    ``keep`` (indexed by ``idx``) selects a subset, e.g. the samples that pass score filters. The same
    records serve downloads and subset datasets, so a subset re-ingests to the same samples. Every record has
    the same keys and types; with ``witnesses_first`` the few samples that first show an optional field
    (earlier turns, tool calls, weights, ...) after the first ``LEADING_RECORDS`` records come first, so a
    loader that infers its schema from the first block (HF ``datasets``, hence LLaMA-Factory) sees every
    column; everything else keeps dataset order.
    """
    export_format_check(export_format=export_format)
    shape = export_shape(samples_file=samples_file, export_format=export_format, keep=keep)
    columns = _columns(samples_file)
    first = shape.witnesses if witnesses_first else {}

    def encode(rows: list[dict]) -> bytes:
        return "".join(
            json.dumps(export_record(sample=row, export_format=export_format, shape=shape), ensure_ascii=False) + "\n"
            for row in rows
        ).encode()

    def lines() -> Iterator[bytes]:
        if first:
            yield encode([first[idx] for idx in sorted(first)])
        for batch in iter_batches(samples_file, columns=columns, batch_size=_BATCH_ROWS):
            yield encode([row for row in _selected(batch.to_pylist(), keep) if row["idx"] not in first])

    return lines()


def dataset_export_lines(*, dataset: Dataset, export_format: str) -> Iterator[bytes]:
    """Validate the export now, then return an iterator of JSONL lines (bytes) for a streaming response."""
    export_format_check(export_format=export_format)
    return samples_export_lines(samples_file=_ready_samples_file(dataset), export_format=export_format)


def export_file_name(*, dataset: Dataset, export_format: str) -> str:
    return f"{dataset.slug}.{export_format}.jsonl"


def dataset_info_entry(*, dataset: Dataset, export_format: str, file_name: str = "", name: str = "") -> dict:
    """The LLaMA-Factory ``dataset_info.json`` entry for an export of ``dataset`` (LLaMA-Factory data/README.md).

    The entry declares only the columns the exported file has (a ``system`` or ``history`` column that no
    record carries makes LLaMA-Factory's loader fail) and, for sharegpt, the ``function_call`` and
    ``observation`` tags of tool calls and results. ``name`` (default: the dataset slug) is the entry's key.
    The messages export is described only when it holds no tool calls or tool definitions: LLaMA-Factory
    reads an OpenAI-style message's role and content only, so they would be lost; the sharegpt export keeps them.
    """
    export_format_check(export_format=export_format)
    samples_file = _ready_samples_file(dataset)
    file_name = file_name.strip() or export_file_name(dataset=dataset, export_format=export_format)
    if "/" in file_name or "\\" in file_name:
        raise InvalidInput(f"file_name {file_name!r} must be a bare file name, without directories")
    name = name.strip() or dataset.slug
    if len(name) > 200:
        raise InvalidInput("name must be at most 200 characters")
    shape = export_shape(samples_file=samples_file, export_format=export_format)
    if export_format == "alpaca":
        columns = {"prompt": "instruction", "query": "input", "response": "output"}
        if shape.system:
            columns["system"] = "system"
        if shape.history:
            columns["history"] = "history"
        return {name: {"file_name": file_name, "formatting": "alpaca", "columns": columns}}
    if export_format == "sharegpt":
        columns = {"messages": "conversations"}
        if shape.tools:
            columns["tools"] = "tools"
        tags = {
            "role_tag": "from",
            "content_tag": "value",
            "user_tag": "human",
            "assistant_tag": "gpt",
            "observation_tag": "observation",
            "function_tag": "function_call",
            "system_tag": "system",
        }
        return {name: {"file_name": file_name, "formatting": "sharegpt", "columns": columns, "tags": tags}}
    if shape.has_tool_calls or shape.tools:
        raise InvalidInput(
            f"dataset {dataset.slug!r} has tool calls or tool definitions, which LLaMA-Factory does not read from "
            "OpenAI-style messages; describe its sharegpt export instead (function_call and observation turns)"
        )
    tags = {
        "role_tag": "role",
        "content_tag": "content",
        "user_tag": "user",
        "assistant_tag": "assistant",
        "observation_tag": "tool",
        "system_tag": "system",
    }
    return {name: {"file_name": file_name, "formatting": "sharegpt", "columns": {"messages": "messages"}, "tags": tags}}
