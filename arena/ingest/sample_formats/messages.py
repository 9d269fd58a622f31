"""OpenAI messages: ``messages`` of ``role``/``content`` (content parts of type text), ``tools``."""
from __future__ import annotations

from arena.ingest.sample_formats import SampleFormat, register
from arena.ingest.sample_formats._fields import FieldReader, conversation_convert

MESSAGE_ROLES = {"system": "system", "developer": "system", "user": "user", "assistant": "assistant", "tool": "tool"}



@register
class Messages(SampleFormat):
    name = "messages"
    label = "OpenAI messages"
    hint = "OpenAI messages (messages of role/content)"
    order = 30
    detect_priority = 20
    keys = frozenset({"messages", "system", "tools"})

    def matches(self, record: dict) -> bool:
        return "messages" in record

    def convert(self, record: dict, *, reader: FieldReader, ignored: list[str]) -> tuple[str, list[dict], str]:
        return conversation_convert(record, sharegpt=False, roles=MESSAGE_ROLES, reader=reader, ignored=ignored)
