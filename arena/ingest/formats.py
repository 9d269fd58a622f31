"""Recognise alpaca, sharegpt and OpenAI-messages records and normalise them to one sample schema.

A normalised sample is ``Sample(id, system, messages)`` where ``messages`` is a
list of ``{"role", "content"}`` with roles ``user``, ``assistant`` and ``tool``;
a leading system prompt is lifted into ``system``. Nothing is guessed: a record
that does not fit its format raises :class:`IngestError` naming the field.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from arena.ingest.errors import IngestError

SAMPLE_FORMATS = ("alpaca", "sharegpt", "messages")

SHAREGPT_ROLES = {
    "human": "user",
    "user": "user",
    "gpt": "assistant",
    "assistant": "assistant",
    "chatgpt": "assistant",
    "bard": "assistant",
    "bing": "assistant",
    "model": "assistant",
    "system": "system",
    "function_call": "assistant",
    "observation": "tool",
    "tool": "tool",
}
MESSAGE_ROLES = {"system": "system", "developer": "system", "user": "user", "assistant": "assistant", "tool": "tool"}


@dataclass
class Sample:
    id: str
    system: str
    messages: list[dict] = field(default_factory=list)

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


def detect_sample_format(record: dict, *, location: str) -> str:
    if "messages" in record and _looks_like_sharegpt_turns(record["messages"]):
        return "sharegpt"
    if "messages" in record:
        return "messages"
    if "conversations" in record:
        return "sharegpt"
    if "instruction" in record and "output" in record:
        return "alpaca"
    keys = ", ".join(sorted(map(str, record))[:12]) or "none"
    raise IngestError(
        f"unknown sample format: the record has keys [{keys}]; expected alpaca (instruction, input, output), "
        "sharegpt (conversations of from/value) or OpenAI messages (messages of role/content); "
        "pass sample_format to force one",
        location=location,
    )


def _looks_like_sharegpt_turns(turns: object) -> bool:
    return isinstance(turns, list) and bool(turns) and isinstance(turns[0], dict) and "from" in turns[0]


def _text(value: object, *, field_name: str, location: str, required: bool = True) -> str:
    if value is None:
        if required:
            raise IngestError(f"missing field {field_name!r}", location=location)
        return ""
    if not isinstance(value, str):
        raise IngestError(f"field {field_name!r} must be a string, found {type(value).__name__}", location=location)
    return value


def _record_id(record: dict, *, fallback: int) -> str:
    for key in ("id", "idx", "sample_id", "uuid"):
        value = record.get(key)
        if isinstance(value, (str, int)) and not isinstance(value, bool) and str(value) != "":
            return str(value)
    return str(fallback)


def normalise(record: dict, *, sample_format: str, location: str, index: int) -> Sample:
    if sample_format == "alpaca":
        system, messages = _from_alpaca(record, location=location)
    elif sample_format == "sharegpt":
        system, messages = _from_turns(
            record.get("conversations", record.get("messages")),
            field_name="conversations" if "conversations" in record else "messages",
            role_key="from",
            content_key="value",
            roles=SHAREGPT_ROLES,
            location=location,
        )
        system = _text(record.get("system"), field_name="system", location=location, required=False) or system
    elif sample_format == "messages":
        system, messages = _from_turns(
            record.get("messages"),
            field_name="messages",
            role_key="role",
            content_key="content",
            roles=MESSAGE_ROLES,
            location=location,
        )
    else:
        raise IngestError(f"unknown sample format {sample_format!r}; expected one of {', '.join(SAMPLE_FORMATS)}")
    _check_conversation(messages, location=location)
    return Sample(id=_record_id(record, fallback=index), system=system, messages=messages)


def _from_alpaca(record: dict, *, location: str) -> tuple[str, list[dict]]:
    if "instruction" not in record:
        raise IngestError("missing field 'instruction' (format alpaca)", location=location)
    if "output" not in record:
        raise IngestError("missing field 'output' (format alpaca)", location=location)
    instruction = _text(record["instruction"], field_name="instruction", location=location)
    extra_input = _text(record.get("input"), field_name="input", location=location, required=False)
    output = _text(record["output"], field_name="output", location=location)
    system = _text(record.get("system"), field_name="system", location=location, required=False)
    prompt = f"{instruction}\n\n{extra_input}" if instruction and extra_input else instruction or extra_input
    if not prompt.strip():
        raise IngestError("empty instruction: both 'instruction' and 'input' are empty", location=location)
    messages: list[dict] = []
    history = record.get("history") or []
    if not isinstance(history, list):
        raise IngestError("field 'history' must be a list of [instruction, response] pairs", location=location)
    for turn_no, turn in enumerate(history, start=1):
        if not (isinstance(turn, (list, tuple)) and len(turn) == 2 and all(isinstance(t, str) for t in turn)):
            raise IngestError(f"history turn {turn_no} must be a pair of strings [instruction, response]", location=location)
        messages += [{"role": "user", "content": turn[0]}, {"role": "assistant", "content": turn[1]}]
    messages += [{"role": "user", "content": prompt}, {"role": "assistant", "content": output}]
    return system, messages


def _content_text(content: object, *, where: str, location: str) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):  # OpenAI content parts
        texts = []
        for part in content:
            if not (isinstance(part, dict) and part.get("type") == "text" and isinstance(part.get("text"), str)):
                kind = part.get("type") if isinstance(part, dict) else type(part).__name__
                raise IngestError(f"{where}: only text content parts are supported, found {kind!r}", location=location)
            texts.append(part["text"])
        return "".join(texts)
    if content is None:
        raise IngestError(f"{where}: missing content", location=location)
    raise IngestError(f"{where}: content must be a string, found {type(content).__name__}", location=location)


def _from_turns(
    turns: object,
    *,
    field_name: str,
    role_key: str,
    content_key: str,
    roles: dict[str, str],
    location: str,
) -> tuple[str, list[dict]]:
    if turns is None:
        raise IngestError(f"missing field {field_name!r}", location=location)
    if not isinstance(turns, list) or not turns:
        raise IngestError(f"field {field_name!r} must be a non-empty list of messages", location=location)
    system = ""
    messages: list[dict] = []
    for position, turn in enumerate(turns, start=1):
        where = f"{field_name}[{position}]"
        if not isinstance(turn, dict):
            raise IngestError(f"{where} must be an object with {role_key!r} and {content_key!r}", location=location)
        if role_key not in turn:
            raise IngestError(f"{where} has no {role_key!r} key (keys: {sorted(map(str, turn))})", location=location)
        tag = turn[role_key]
        role = roles.get(tag.lower()) if isinstance(tag, str) else None
        if role is None:
            raise IngestError(
                f"{where} has unknown role {tag!r}; expected one of {', '.join(sorted(roles))}", location=location
            )
        text = _content_text(turn.get(content_key), where=where, location=location)
        if role == "system":
            if messages:
                raise IngestError(f"{where}: a system message may only open the conversation", location=location)
            system = text
            continue
        messages.append({"role": role, "content": text})
    return system, messages


def _check_conversation(messages: list[dict], *, location: str) -> None:
    if not messages:
        raise IngestError("the conversation has no user or assistant messages", location=location)
    if messages[0]["role"] != "user":
        raise IngestError(f"the conversation must start with a user message, not {messages[0]['role']!r}", location=location)
    if messages[-1]["role"] != "assistant":
        raise IngestError(
            f"the conversation must end with an assistant reply, not {messages[-1]['role']!r}", location=location
        )
    previous = None
    for position, message in enumerate(messages, start=1):
        role = message["role"]
        if role == previous == "user":
            raise IngestError(f"message {position}: two user messages in a row with no assistant reply", location=location)
        previous = role
    if not messages[-1]["content"].strip():
        raise IngestError("the final assistant reply is empty", location=location)
