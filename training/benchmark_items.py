"""What a benchmark item must contain, per benchmark kind, and the check of an item file line by line."""
from __future__ import annotations

import json
from collections.abc import Iterator

import pyarrow.parquet as pq

from arena.errors import InvalidInput

METRICS_BY_KIND = {
    "generation": ("exact_match", "numeric_match"),
    "multiple_choice": ("accuracy",),
    "code": ("pass@1",),
}


def check_item(item, *, kind: str, where: str) -> None:
    """Raise InvalidInput naming ``where`` (e.g. 'line 12') and the problem."""
    if not isinstance(item, dict):
        raise InvalidInput(f"{where}: an item must be a JSON object, got {type(item).__name__}")
    prompt = item.get("prompt")
    if not isinstance(prompt, str) or not prompt.strip():
        raise InvalidInput(f"{where}: 'prompt' must be a non-empty string")
    if kind == "generation":
        answer = item.get("answer")
        if answer is None or (isinstance(answer, str) and not answer.strip()) or isinstance(answer, (list, dict)):
            raise InvalidInput(f"{where}: a generation item needs an 'answer' (string or number)")
    elif kind == "multiple_choice":
        choices = item.get("choices")
        if not isinstance(choices, list) or len(choices) < 2 or not all(isinstance(c, str) and c for c in choices):
            raise InvalidInput(f"{where}: 'choices' must be a list of at least 2 non-empty strings")
        index = item.get("answer_index")
        if not isinstance(index, int) or isinstance(index, bool) or not 0 <= index < len(choices):
            raise InvalidInput(f"{where}: 'answer_index' must be an integer in [0, {len(choices) - 1}]")
    elif kind == "code":
        for key in ("test", "entry_point"):
            if not isinstance(item.get(key), str) or not item[key].strip():
                raise InvalidInput(f"{where}: a code item needs a non-empty '{key}' (HumanEval form)")
    else:
        raise InvalidInput(f"unknown benchmark kind {kind!r}; expected one of {', '.join(METRICS_BY_KIND)}")
    max_new = item.get("max_new_tokens")
    if max_new is not None and (not isinstance(max_new, int) or isinstance(max_new, bool) or not 1 <= max_new <= 4096):
        raise InvalidInput(f"{where}: 'max_new_tokens' must be an integer in [1, 4096]")


def iter_file_items(path: str, *, filename: str) -> Iterator[tuple[str, object]]:
    """(location, item) for each item of a local JSONL or Parquet file; malformed JSON is an error."""
    if filename.endswith(".parquet"):
        try:
            parquet = pq.ParquetFile(path)
        except Exception as exc:
            raise InvalidInput(f"{filename} is not a readable Parquet file ({exc})") from None
        row = 0
        for batch in parquet.iter_batches(batch_size=1000):
            for item in batch.to_pylist():
                row += 1
                yield f"row {row}", item
        return
    if not filename.endswith(".jsonl"):
        raise InvalidInput(f"benchmark item files must be .jsonl or .parquet, got {filename!r}")
    with open(path, encoding="utf-8") as handle:
        line_no = 0
        while True:
            try:
                line = handle.readline()
            except UnicodeDecodeError:
                raise InvalidInput(f"line {line_no + 1}: not valid UTF-8") from None
            if not line:
                break
            line_no += 1
            if not line.strip():
                continue
            try:
                yield f"line {line_no}", json.loads(line)
            except json.JSONDecodeError as exc:
                raise InvalidInput(f"line {line_no}: not valid JSON ({exc.msg})") from None


def check_item_file(path: str, *, filename: str, kind: str) -> int:
    """Validate every item; returns the item count. Ids, when present, must be unique."""
    count = 0
    seen: set = set()
    for where, item in iter_file_items(path, filename=filename):
        check_item(item, kind=kind, where=where)
        item_id = item.get("id", item.get("task_id"))
        if item_id is not None:
            if item_id in seen:
                raise InvalidInput(f"{where}: duplicate item id {item_id!r}")
            seen.add(item_id)
        count += 1
    if count == 0:
        raise InvalidInput("the benchmark file has no items")
    return count
