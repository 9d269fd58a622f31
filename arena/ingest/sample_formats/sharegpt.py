"""ShareGPT: ``conversations`` (or ``messages``) of ``from``/``value`` turns, optional ``system`` and ``tools``."""
from __future__ import annotations

from arena.ingest.sample_formats import SampleFormat, register
from arena.ingest.sample_formats._fields import FieldReader, conversation_convert

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


@register
class ShareGPT(SampleFormat):
    name = "sharegpt"
    label = "sharegpt"
    hint = "sharegpt (conversations of from/value)"
    order = 20
    detect_priority = 10
    keys = frozenset({"conversations", "messages", "system", "tools"})

    def matches(self, record: dict) -> bool:
        if "messages" in record:  # OpenAI's key holding sharegpt turns
            return _looks_like_sharegpt_turns(record["messages"])
        return "conversations" in record

    def convert(self, record: dict, *, reader: FieldReader, ignored: list[str]) -> tuple[str, list[dict], str]:
        return conversation_convert(record, sharegpt=True, roles=SHAREGPT_ROLES, reader=reader, ignored=ignored)


def _looks_like_sharegpt_turns(turns: object) -> bool:
    return isinstance(turns, list) and bool(turns) and isinstance(turns[0], dict) and "from" in turns[0]
