"""Export a ready dataset as JSONL in alpaca, sharegpt or OpenAI-messages form, plus its LLaMA-Factory entry.

Exports stream the normalised Parquet file batch by batch (``arena.storage.iter_batches``), so memory
stays flat whatever the dataset size. Each exported record re-imports to the same normalised sample
(same ``content_hash``). A format that cannot represent a sample is refused before the first byte is
sent, naming the sample: the download never stops half-way through.
"""

from __future__ import annotations

import json
from collections.abc import Iterator

from arena.errors import Conflict, InvalidInput
from arena.models import Dataset
from arena.storage import iter_batches

EXPORT_FORMATS = ("alpaca", "sharegpt", "messages")

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


def alpaca_problem(*, messages: list[dict]) -> str | None:
    """Why ``messages`` cannot be written as one alpaca record (instruction/output + history pairs), or None."""
    if len(messages) % 2:
        return "it has an odd number of messages, so they do not form user/assistant pairs"
    for position, message in enumerate(messages, start=1):
        expected = "user" if position % 2 else "assistant"
        if message["role"] != expected:
            return f"message {position} has role {message['role']!r} where alpaca needs {expected!r}"
    if not messages[-2]["content"].strip():
        return "its final user message is empty"
    return None


def export_record(*, sample: dict, export_format: str) -> dict:
    """One normalised sample (``id``, ``system``, ``messages``) in the requested format."""
    messages, system = sample["messages"], sample["system"] or ""
    if export_format == "alpaca":
        problem = alpaca_problem(messages=messages)
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
        turns += [{"from": SHAREGPT_TAGS[m["role"]], "value": m["content"]} for m in messages]
        return {"id": sample["id"], "conversations": turns}
    if export_format == "messages":
        opening = [{"role": "system", "content": system}] if system else []
        return {
            "id": sample["id"],
            "messages": opening + [{"role": m["role"], "content": m["content"]} for m in messages],
        }
    raise InvalidInput(f"unknown export format {export_format!r}; expected one of {', '.join(EXPORT_FORMATS)}")


def _check_alpaca(samples_file: str) -> None:
    """Refuse an alpaca export up front when any sample cannot be represented (reads only two columns)."""
    for batch in iter_batches(samples_file, columns=["id", "messages"], batch_size=_BATCH_ROWS):
        for sample_id, messages in zip(batch.column("id").to_pylist(), batch.column("messages").to_pylist()):
            problem = alpaca_problem(messages=messages)
            if problem:
                raise InvalidInput(
                    f"sample {sample_id!r} cannot be exported as alpaca: {problem}; export as sharegpt or messages"
                )


def dataset_export_lines(*, dataset: Dataset, export_format: str) -> Iterator[bytes]:
    """Validate the export now, then return an iterator of JSONL lines (bytes) for a streaming response."""
    export_format_check(export_format=export_format)
    samples_file = _ready_samples_file(dataset)
    if export_format == "alpaca":
        _check_alpaca(samples_file)

    def lines() -> Iterator[bytes]:
        for batch in iter_batches(samples_file, columns=["id", "system", "messages"], batch_size=_BATCH_ROWS):
            chunk = [
                json.dumps(export_record(sample=row, export_format=export_format), ensure_ascii=False) + "\n"
                for row in batch.to_pylist()
            ]
            yield "".join(chunk).encode()

    return lines()


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
