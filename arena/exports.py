"""Export a ready dataset as JSONL in alpaca, sharegpt or OpenAI-messages form, plus its LLaMA-Factory entry.

Exports stream the normalised Parquet file batch by batch (``arena.storage.iter_batches``), so memory
stays flat whatever the dataset size. Each exported record re-imports to the same normalised sample
(same ``content_hash``). No field is dropped silently: a format that cannot represent a sample (alpaca
has no tool calls, tool definitions or per-turn weights) is refused before the first byte is sent,
naming the sample and the field: the download never stops half-way through.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence

from arena.errors import Conflict, InvalidInput
from arena.models import Dataset
from arena.ingest.formats import SAMPLE_FORMATS
from arena.ingest.schema import OPTIONAL_MESSAGE_FIELDS
from arena.storage import iter_batches, open_parquet

EXPORT_FORMATS = SAMPLE_FORMATS  # every sample format Arena reads it also writes (arena/ingest/sample_formats/)

SHAREGPT_TAGS = {"user": "human", "assistant": "gpt", "tool": "observation", "system": "system"}

_BATCH_ROWS = 1000


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


def _turn(message: dict, *, role_key: str, role: str, content_key: str) -> dict:
    turn = {role_key: role, content_key: message.get("content") or ""}
    for key in OPTIONAL_MESSAGE_FIELDS:
        value = message.get(key)
        if value is not None:
            turn[key] = _json_or_text(value) if key == "tool_calls" else value
    return turn


def export_record(*, sample: dict, export_format: str) -> dict:
    """One normalised sample (``id``, ``system``, ``messages``, ``tools``) in the requested format.

    sharegpt and messages keep every field of the normalised schema (tool calls and results, weight and
    loss as extra keys of a turn, ``tools`` at the top level); alpaca refuses a sample it cannot hold.
    """
    messages, system, tools = sample["messages"], sample.get("system") or "", sample.get("tools") or ""
    if export_format == "alpaca":
        problem = alpaca_problem(messages=messages, tools=tools)
        if problem:
            raise InvalidInput(f"sample {sample['id']!r} cannot be exported as alpaca: {problem}")
        pairs = [[messages[i]["content"], messages[i + 1]["content"]] for i in range(0, len(messages), 2)]
        record = {"id": sample["id"], "instruction": pairs[-1][0], "input": "", "output": pairs[-1][1]}
        if system:
            record["system"] = system
        record["history"] = pairs[:-1]
        return record
    if export_format == "sharegpt":
        turns = [{"from": "system", "value": system}] if system else []
        turns += [_turn(m, role_key="from", role=SHAREGPT_TAGS[m["role"]], content_key="value") for m in messages]
        record = {"id": sample["id"], "conversations": turns}
        if tools:
            record["tools"] = tools  # LLaMA-Factory's sharegpt keeps tool definitions as a JSON string
        return record
    if export_format == "messages":
        opening = [{"role": "system", "content": system}] if system else []
        record = {
            "id": sample["id"],
            "messages": opening + [_turn(m, role_key="role", role=m["role"], content_key="content") for m in messages],
        }
        if tools:
            record["tools"] = _json_or_text(tools)
        return record
    raise InvalidInput(f"unknown export format {export_format!r}; expected one of {', '.join(EXPORT_FORMATS)}")


def _columns(samples_file: str) -> list[str]:
    """The sample columns an export needs (files ingested before tools were kept have no ``tools`` column)."""
    present = set(open_parquet(samples_file).schema_arrow.names)
    return [c for c in ("idx", "id", "system", "messages", "tools") if c in present]


def _selected(batch_rows: list[dict], keep: Sequence[bool] | None) -> list[dict]:
    return batch_rows if keep is None else [row for row in batch_rows if keep[row["idx"]]]


def _check_alpaca(samples_file: str, keep: Sequence[bool] | None) -> None:
    """Refuse an alpaca export up front when any (selected) sample cannot be represented."""
    for batch in iter_batches(samples_file, columns=_columns(samples_file), batch_size=_BATCH_ROWS):
        for row in _selected(batch.to_pylist(), keep):
            problem = alpaca_problem(messages=row["messages"], tools=row.get("tools") or "")
            if problem:
                raise InvalidInput(
                    f"sample {row['id']!r} cannot be exported as alpaca: {problem}; export as sharegpt or messages"
                )


def samples_export_lines(
    *, samples_file: str, export_format: str, keep: Sequence[bool] | None = None
) -> Iterator[bytes]:
    """Validate, then return an iterator of JSONL lines (bytes) for the samples of a stored sample file.

    ``keep`` (indexed by ``idx``) selects a subset, e.g. the samples that pass score filters. The same
    records serve downloads and subset datasets, so a subset re-ingests to the same samples.
    """
    export_format_check(export_format=export_format)
    if export_format == "alpaca":
        _check_alpaca(samples_file, keep)
    columns = _columns(samples_file)

    def lines() -> Iterator[bytes]:
        for batch in iter_batches(samples_file, columns=columns, batch_size=_BATCH_ROWS):
            chunk = [
                json.dumps(export_record(sample=row, export_format=export_format), ensure_ascii=False) + "\n"
                for row in _selected(batch.to_pylist(), keep)
            ]
            yield "".join(chunk).encode()

    return lines()


def dataset_export_lines(*, dataset: Dataset, export_format: str) -> Iterator[bytes]:
    """Validate the export now, then return an iterator of JSONL lines (bytes) for a streaming response."""
    export_format_check(export_format=export_format)
    return samples_export_lines(samples_file=_ready_samples_file(dataset), export_format=export_format)


def export_file_name(*, dataset: Dataset, export_format: str) -> str:
    return f"{dataset.slug}.{export_format}.jsonl"


def dataset_info_entry(*, dataset: Dataset, export_format: str, file_name: str = "") -> dict:
    """The LLaMA-Factory ``dataset_info.json`` entry for an export of ``dataset`` (see LLaMA-Factory data/README)."""
    export_format_check(export_format=export_format)
    _ready_samples_file(dataset)
    file_name = file_name.strip() or export_file_name(dataset=dataset, export_format=export_format)
    if "/" in file_name or "\\" in file_name:
        raise InvalidInput(f"file_name {file_name!r} must be a bare file name, without directories")
    if export_format == "alpaca":
        entry = {
            "file_name": file_name,
            "formatting": "alpaca",
            "columns": {
                "prompt": "instruction",
                "query": "input",
                "response": "output",
                "system": "system",
                "history": "history",
            },
        }
    elif export_format == "sharegpt":
        entry = {
            "file_name": file_name,
            "formatting": "sharegpt",
            "columns": {"messages": "conversations"},
            "tags": {
                "role_tag": "from",
                "content_tag": "value",
                "user_tag": "human",
                "assistant_tag": "gpt",
                "observation_tag": "observation",
                "system_tag": "system",
            },
        }
    else:
        entry = {
            "file_name": file_name,
            "formatting": "sharegpt",
            "columns": {"messages": "messages"},
            "tags": {
                "role_tag": "role",
                "content_tag": "content",
                "user_tag": "user",
                "assistant_tag": "assistant",
                "observation_tag": "tool",
                "system_tag": "system",
            },
        }
    return {dataset.slug: entry}
