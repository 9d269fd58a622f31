"""Alpaca: ``instruction`` (+ ``input``) -> ``output``, optional ``system`` and ``history`` pairs."""
from __future__ import annotations

from arena.ingest.sample_formats import SampleFormat, register
from arena.ingest.sample_formats._fields import FieldReader


@register
class Alpaca(SampleFormat):
    name = "alpaca"
    label = "alpaca"
    hint = "alpaca (instruction, input, output)"
    order = 10
    detect_priority = 30
    keys = frozenset({"instruction", "input", "output", "system", "history"})

    def matches(self, record: dict) -> bool:
        return "instruction" in record and "output" in record

    def convert(self, record: dict, *, reader: FieldReader, ignored: list[str]) -> tuple[str, list[dict], str]:
        system, messages = _from_alpaca(record, reader=reader)
        return system, messages, ""


def _from_alpaca(record: dict, *, reader: FieldReader) -> tuple[str, list[dict]]:
    for key in ("instruction", "output"):
        if key not in record:
            raise reader.fail(f"missing field {key!r} (format alpaca)", "missing_field")
    instruction = reader.text(record["instruction"], where="instruction")
    extra_input = reader.text(record.get("input"), where="input", required=False)
    output = reader.text(record["output"], where="output")
    system = reader.text(record.get("system"), where="system", required=False)
    prompt = f"{instruction}\n\n{extra_input}" if instruction and extra_input else instruction or extra_input
    if not prompt.strip():
        raise reader.fail("empty instruction: both 'instruction' and 'input' are empty", "empty_instruction")
    messages: list[dict] = []
    history = record.get("history") or []
    if not isinstance(history, list):
        raise reader.fail("field 'history' must be a list of [instruction, response] pairs", "bad_field_type")
    for turn_no, turn in enumerate(history, start=1):
        if not (isinstance(turn, (list, tuple)) and len(turn) == 2 and all(isinstance(t, str) for t in turn)):
            raise reader.fail(f"history turn {turn_no} must be a pair of strings [instruction, response]", "bad_field_type")
        messages += [
            {"role": "user", "content": reader.clean(turn[0], where=f"history[{turn_no}]")},
            {"role": "assistant", "content": reader.clean(turn[1], where=f"history[{turn_no}]")},
        ]
    messages += [{"role": "user", "content": prompt}, {"role": "assistant", "content": output}]
    return system, messages
