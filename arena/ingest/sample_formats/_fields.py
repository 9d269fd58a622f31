"""Field access shared by the sample formats: strict or repairing reads of one record's fields, and the
conversion of a list of turns (sharegpt and OpenAI messages share it)."""
from __future__ import annotations

import json
import re

from arena.ingest.errors import IngestError
from arena.ingest.repair import ROLE_ALIASES
from arena.ingest.schema import canonical_json

ID_KEYS = ("id", "idx", "sample_id", "uuid")
_TURN_EXTRAS = ("tool_calls", "tool_call_id", "name", "weight", "loss")
SURROGATE = re.compile("[\ud800-\udfff]")
_SURROGATE = SURROGATE


class FieldReader:
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


def _content_text(content: object, *, where: str, reader: FieldReader, has_calls: bool) -> str:
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


def _turn_extras(turn: dict, *, where: str, reader: FieldReader) -> dict:
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


def _role(tag: object, *, roles: dict[str, str], where: str, reader: FieldReader) -> str:
    role = roles.get(tag.lower()) if isinstance(tag, str) else None
    if role is not None:
        return role
    alias = ROLE_ALIASES.get(tag.strip().lower()) if isinstance(tag, str) and reader.repair else None
    if alias is not None:
        reader.applied("map_role")
        return alias
    known = sorted(set(roles) | (set(ROLE_ALIASES) if reader.repair else set()))
    raise reader.fail(f"{where} has unknown role {ascii(tag)}; expected one of {', '.join(known)}", "unknown_role")


FUNCTION_CALL_TAG = "function_call"  # a LLaMA-Factory sharegpt turn whose value is the calls' JSON


def _function_call_turn(turn: dict, *, content_key: str, extras: dict, where: str, reader: FieldReader) -> str:
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
    reader: FieldReader,
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
        calling = isinstance(turn[role_key], str) and turn[role_key].lower() == FUNCTION_CALL_TAG and role == "assistant"
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


def conversation_convert(
    record: dict, *, sharegpt: bool, roles: dict[str, str], reader: FieldReader, ignored: list[str]
) -> tuple[str, list[dict], str]:
    """A record holding a list of turns (sharegpt ``conversations``/``messages`` of from/value, or OpenAI
    ``messages`` of role/content), plus its top-level ``system`` and ``tools``."""
    field_name = "conversations" if sharegpt and "conversations" in record else "messages"
    system, messages = _from_turns(
        record.get(field_name),
        field_name=field_name,
        role_key="from" if sharegpt else "role",
        content_key="value" if sharegpt else "content",
        roles=roles,
        reader=reader,
        ignored=ignored,
    )
    top = reader.text(record.get("system"), where="system", required=False)
    if top and system and top != system:
        raise reader.fail("the record has both a top-level 'system' and a different system message", "conflicting_system")
    system = system or top
    tools = reader.json_text(record.get("tools"), where="tools") or ""
    return system, messages, tools
