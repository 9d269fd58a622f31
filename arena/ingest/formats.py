"""Recognise alpaca, sharegpt and OpenAI-messages records and normalise them to one sample schema.

A normalised sample is ``Sample(id, system, messages, tools)``; ``messages`` is a list of
``{"role", "content"}`` with roles ``user``, ``assistant`` and ``tool`` plus the optional fields of
:mod:`arena.ingest.schema` (``tool_calls``, ``tool_call_id``, ``name``, ``weight``, ``loss``); a leading
system prompt (or a top-level ``system`` field) becomes ``system``. Nothing is guessed: under the strict
policy a record that does not fit its format raises :class:`IngestError` naming the field; under the
repair policy the rules of :mod:`arena.ingest.repair` are applied first. Fields a format does not define
are not kept; they are named in ``Normalised.ignored`` so the ingest report can list them.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from arena.ingest.errors import IngestError
from arena.ingest.repair import repair_messages
from arena.ingest.sample_formats import sample_format_detect, sample_format_get, sample_format_names, sample_formats
from arena.ingest.sample_formats._fields import ID_KEYS, SURROGATE, FieldReader
from arena.ingest.sample_formats.messages import MESSAGE_ROLES  # noqa: F401  (re-exported: the fast path reads it)
from arena.ingest.sample_formats.sharegpt import SHAREGPT_ROLES  # noqa: F401  (re-exported)

#: every registered sample format (``arena/ingest/sample_formats/``, one module each)
SAMPLE_FORMATS: tuple[str, ...] = sample_format_names()

@dataclass
class Sample:
    id: str
    system: str
    messages: list[dict] = field(default_factory=list)
    tools: str = ""

    @property
    def instruction(self) -> str:
        """Everything the model is given before its final answer (the Q side)."""
        before = self.messages[:-1]
        if len(before) == 1:
            return before[0]["content"]
        return "\n\n".join(f"{m['role']}: {m['content']}" for m in before)

    @property
    def response(self) -> str:
        """The final assistant message (the A side)."""
        return self.messages[-1]["content"]


@dataclass
class Normalised:
    sample: Sample
    repairs: list[str] = field(default_factory=list)  # repair rules that changed this record
    ignored: list[str] = field(default_factory=list)  # fields present in the record but not kept


def detect_sample_format(record: dict, *, location: str) -> str:
    found = sample_format_detect(record)
    if found is not None:
        return found.name
    keys = ", ".join(sorted(map(str, record))[:12]) or "none"
    hints = [f.hint for f in sample_formats()]
    expected = ", ".join(hints[:-1]) + " or " + hints[-1] if len(hints) > 1 else hints[0]
    raise IngestError(
        f"unknown sample format: the record has keys [{keys}]; expected {expected}; pass sample_format to force one",
        location=location,
        rule="unknown_format",
    )


def _record_id(record: dict, *, fallback: int) -> str:
    for key in ID_KEYS:
        value = record.get(key)
        if isinstance(value, (str, int)) and not isinstance(value, bool) and str(value) != "":
            return SURROGATE.sub("\ufffd", str(value))
    return str(fallback)


def _ignored(record: dict, *, keys: frozenset[str]) -> list[str]:
    return sorted(str(k) for k, v in record.items() if k not in keys and v is not None)


def normalise(record: dict, *, sample_format: str, location: str, index: int, policy: str = "strict") -> Normalised:
    reader = FieldReader(location=location, repair=policy == "repair")
    spec = sample_format_get(sample_format)
    if spec is None:
        raise IngestError(
            f"unknown sample format {sample_format!r}; expected one of {', '.join(SAMPLE_FORMATS)}", rule="bad_option"
        )
    ignored = _ignored(record, keys=spec.keys)
    system, messages, tools = spec.convert(record, reader=reader, ignored=ignored)
    try:
        _check_conversation(messages, location=location)
    except IngestError:
        if not reader.repair:
            raise
        messages, structural = repair_messages(messages)
        for rule in structural:
            reader.applied(rule)
        _check_conversation(messages, location=location)
    sample = Sample(id=_record_id(record, fallback=index), system=system, messages=messages, tools=tools)
    return Normalised(sample=sample, repairs=reader.repairs, ignored=ignored)


def _check_conversation(messages: list[dict], *, location: str) -> None:
    def fail(problem: str, rule: str) -> IngestError:
        return IngestError(problem, location=location, rule=rule)

    if not messages:
        raise fail("the conversation has no user or assistant messages", "no_messages")
    if messages[0]["role"] != "user":
        raise fail(f"the conversation must start with a user message, not {messages[0]['role']!r}", "starts_with_assistant")
    if messages[-1]["role"] != "assistant":
        raise fail(f"the conversation must end with an assistant reply, not {messages[-1]['role']!r}", "ends_without_reply")
    previous = None
    for position, message in enumerate(messages, start=1):
        role = message["role"]
        if role == previous == "user":
            raise fail(f"message {position}: two user messages in a row with no assistant reply", "consecutive_user")
        previous = role
    if not messages[-1]["content"].strip():
        raise fail("the final assistant reply is empty", "empty_reply")
