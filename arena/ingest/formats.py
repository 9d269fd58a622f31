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

import json
import re
from dataclasses import dataclass, field

from arena.ingest.errors import IngestError
from arena.ingest.repair import ROLE_ALIASES, repair_messages
from arena.ingest.schema import canonical_json

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

ID_KEYS = ("id", "idx", "sample_id", "uuid")
_KNOWN_KEYS = {
    "alpaca": {"instruction", "input", "output", "system", "history", *ID_KEYS},
    "sharegpt": {"conversations", "messages", "system", "tools", *ID_KEYS},
    "messages": {"messages", "system", "tools", *ID_KEYS},
}
_TURN_EXTRAS = ("tool_calls", "tool_call_id", "name", "weight", "loss")
_SURROGATE = re.compile("[\ud800-\udfff]")


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
        rule="unknown_format",
    )


def _looks_like_sharegpt_turns(turns: object) -> bool:
    return isinstance(turns, list) and bool(turns) and isinstance(turns[0], dict) and "from" in turns[0]


class _Reader:
    """Field access for one record under one policy; collects the repairs it applied."""

    def __init__(self, *, location: str, repair: bool) -> None:
        self.location = location
        self.repair = repair
        self.repairs: list[str] = []

    def fail(self, problem: str, rule: str) -> IngestError:
        return IngestError(problem, location=self.location, rule=rule)

    def applied(self, rule: str) -> None:
        if rule not in self.repairs:
            self.repairs.append(rule)

    def clean(self, text: str, *, where: str) -> str:
        if _SURROGATE.search(text) is None:
            return text
        if not self.repair:
            found = ascii(_SURROGATE.search(text).group())
            raise self.fail(f"field {where!r} holds a lone UTF-16 surrogate {found}, which is not valid Unicode", "lone_surrogate")
        self.applied("replace_lone_surrogates")
        return _SURROGATE.sub("\ufffd", text)

    def text(self, value: object, *, where: str, required: bool = True) -> str:
        if value is None:
            if required:
                raise self.fail(f"missing field {where!r}", "missing_field")
            return ""
        if not isinstance(value, str):
            raise self.fail(f"field {where!r} must be a string, found {type(value).__name__}", "bad_field_type")
        return self.clean(value, where=where)

    def json_text(self, value: object, *, where: str) -> str | None:
        """A JSON value (or JSON held in a string) as canonical JSON text; None when empty."""
        if value is None or value == "" or value == []:
            return None
        if isinstance(value, str):
            try:
                value = json.loads(value)
            except (json.JSONDecodeError, RecursionError):
                return self.clean(value, where=where)
            if value is None or value == []:
                return None
        if not isinstance(value, (list, dict)):
            raise self.fail(f"field {where!r} must be a JSON list or object, found {type(value).__name__}", "bad_field_type")
        return self.clean(canonical_json(value), where=where)


def _record_id(record: dict, *, fallback: int) -> str:
    for key in ID_KEYS:
        value = record.get(key)
        if isinstance(value, (str, int)) and not isinstance(value, bool) and str(value) != "":
            return _SURROGATE.sub("\ufffd", str(value))
    return str(fallback)


def _ignored(record: dict, *, sample_format: str) -> list[str]:
    return sorted(str(k) for k, v in record.items() if k not in _KNOWN_KEYS[sample_format] and v is not None)


def normalise(record: dict, *, sample_format: str, location: str, index: int, policy: str = "strict") -> Normalised:
    reader = _Reader(location=location, repair=policy == "repair")
    ignored = _ignored(record, sample_format=sample_format) if sample_format in _KNOWN_KEYS else []
    tools = ""
    if sample_format == "alpaca":
        system, messages = _from_alpaca(record, reader=reader)
    elif sample_format in ("sharegpt", "messages"):
        sharegpt = sample_format == "sharegpt"
        field_name = "conversations" if sharegpt and "conversations" in record else "messages"
        system, messages = _from_turns(
            record.get(field_name),
            field_name=field_name,
            role_key="from" if sharegpt else "role",
            content_key="value" if sharegpt else "content",
            roles=SHAREGPT_ROLES if sharegpt else MESSAGE_ROLES,
            reader=reader,
            ignored=ignored,
        )
        top = reader.text(record.get("system"), where="system", required=False)
        if top and system and top != system:
            raise reader.fail("the record has both a top-level 'system' and a different system message", "conflicting_system")
        system = system or top
        tools = reader.json_text(record.get("tools"), where="tools") or ""
    else:
        raise IngestError(
            f"unknown sample format {sample_format!r}; expected one of {', '.join(SAMPLE_FORMATS)}", rule="bad_option"
        )
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


def _from_alpaca(record: dict, *, reader: _Reader) -> tuple[str, list[dict]]:
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


def _content_text(content: object, *, where: str, reader: _Reader, has_calls: bool) -> str:
    if isinstance(content, str):
        return reader.clean(content, where=where)
    if isinstance(content, list):  # OpenAI content parts
        texts = []
        for part in content:
            if not (isinstance(part, dict) and part.get("type") == "text" and isinstance(part.get("text"), str)):
                kind = part.get("type") if isinstance(part, dict) else type(part).__name__
                raise reader.fail(f"{where}: only text content parts are supported, found {kind!r}", "unsupported_content")
            texts.append(part["text"])
        return reader.clean("".join(texts), where=where)
    if content is None:
        if has_calls or reader.repair:  # an assistant turn that only calls tools has no text; repair drops empties
            return ""
        raise reader.fail(f"{where}: missing content", "missing_field")
    raise reader.fail(f"{where}: content must be a string, found {type(content).__name__}", "bad_field_type")


def _turn_extras(turn: dict, *, where: str, reader: _Reader) -> dict:
    extras: dict = {}
    calls = reader.json_text(turn.get("tool_calls"), where=f"{where}.tool_calls")
    if calls is not None:
        extras["tool_calls"] = calls
    for key in ("tool_call_id", "name"):
        if turn.get(key) is not None:
            extras[key] = reader.text(turn[key], where=f"{where}.{key}")
    weight = turn.get("weight")
    if weight is not None:
        if isinstance(weight, bool) or not isinstance(weight, (int, float)):
            raise reader.fail(f"{where}.weight must be a number, found {type(weight).__name__}", "bad_field_type")
        extras["weight"] = float(weight)
    loss = turn.get("loss")
    if loss is not None:
        if not isinstance(loss, bool):
            raise reader.fail(f"{where}.loss must be true or false, found {type(loss).__name__}", "bad_field_type")
        extras["loss"] = loss
    return extras


def _role(tag: object, *, roles: dict[str, str], where: str, reader: _Reader) -> str:
    role = roles.get(tag.lower()) if isinstance(tag, str) else None
    if role is not None:
        return role
    alias = ROLE_ALIASES.get(tag.strip().lower()) if isinstance(tag, str) and reader.repair else None
    if alias is not None:
        reader.applied("map_role")
        return alias
    known = sorted(set(roles) | (set(ROLE_ALIASES) if reader.repair else set()))
    raise reader.fail(f"{where} has unknown role {ascii(tag)}; expected one of {', '.join(known)}", "unknown_role")


def _function_call_turn(turn: dict, *, content_key: str, extras: dict, where: str, reader: _Reader) -> str:
    """A LLaMA-Factory ``function_call`` turn: its value is the calls' JSON (``{"name", "arguments"}`` or a list).

    Arena's own sharegpt export keeps the OpenAI ``tool_calls`` beside the value (and the turn's text, if
    any, in ``content``): those are read as they are. Otherwise the value becomes OpenAI ``tool_calls``; a
    value that is not such JSON stays the turn's text, as before.
    """
    if "tool_calls" in extras:
        return _content_text(turn.get("content") or "", where=where, reader=reader, has_calls=True)
    value = turn.get(content_key)
    try:
        parsed = json.loads(value) if isinstance(value, str) else None
    except (json.JSONDecodeError, RecursionError):
        parsed = None
    calls = parsed if isinstance(parsed, list) else [parsed]
    if parsed and all(isinstance(c, dict) and isinstance(c.get("name"), str) and set(c) <= {"name", "arguments"} for c in calls):
        openai = []
        for call in calls:
            arguments = call.get("arguments", {})
            arguments = arguments if isinstance(arguments, str) else canonical_json(arguments)
            openai.append({"type": "function", "function": {"name": call["name"], "arguments": arguments}})
        extras["tool_calls"] = reader.json_text(openai, where=f"{where}.{content_key}")
        return ""
    return _content_text(value, where=where, reader=reader, has_calls=False)


def _from_turns(
    turns: object,
    *,
    field_name: str,
    role_key: str,
    content_key: str,
    roles: dict[str, str],
    reader: _Reader,
    ignored: list[str],
) -> tuple[str, list[dict]]:
    if turns is None:
        raise reader.fail(f"missing field {field_name!r}", "missing_field")
    if not isinstance(turns, list) or not turns:
        raise reader.fail(f"field {field_name!r} must be a non-empty list of messages", "no_messages")
    known_turn_keys = {role_key, content_key, *_TURN_EXTRAS}
    system = ""
    messages: list[dict] = []
    for position, turn in enumerate(turns, start=1):
        where = f"{field_name}[{position}]"
        if not isinstance(turn, dict):
            raise reader.fail(f"{where} must be an object with {role_key!r} and {content_key!r}", "bad_field_type")
        if role_key not in turn:
            raise reader.fail(f"{where} has no {role_key!r} key (keys: {sorted(map(str, turn))})", "missing_field")
        role = _role(turn[role_key], roles=roles, where=where, reader=reader)
        calling = isinstance(turn[role_key], str) and turn[role_key].lower() == "function_call" and role == "assistant"
        for key, value in turn.items():
            if key not in known_turn_keys and value is not None and f"{field_name}[].{key}" not in ignored:
                if not (calling and key == "content"):
                    ignored.append(f"{field_name}[].{key}")
        extras = _turn_extras(turn, where=where, reader=reader)
        if calling:
            text = _function_call_turn(turn, content_key=content_key, extras=extras, where=where, reader=reader)
        else:
            text = _content_text(turn.get(content_key), where=where, reader=reader, has_calls="tool_calls" in extras)
        if role == "system":
            if messages:
                raise reader.fail(f"{where}: a system message may only open the conversation", "system_mid_conversation")
            system = text
            continue
        messages.append({"role": role, "content": text, **extras})
    return system, messages


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
