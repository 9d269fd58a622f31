"""JSON from strangers: a nesting-depth limit, and messages that name the real cause.

Python's ``json`` recurses once per nesting level, so a record nested 100,000 levels deep raises
``RecursionError``, and a value a few hundred levels deep still crashes later code that walks it.
``loads_limited`` refuses anything deeper than ``max_depth`` with a :class:`JsonTooDeep` (a ValueError).
"""
from __future__ import annotations

import json

DEFAULT_MAX_DEPTH = 64


class JsonTooDeep(ValueError):
    def __init__(self, max_depth: int) -> None:
        self.max_depth = max_depth
        super().__init__(f"JSON nested deeper than {max_depth} levels")


def depth_exceeds(value: object, *, max_depth: int) -> bool:
    """Whether ``value`` nests lists/objects deeper than ``max_depth`` (iterative: never recurses)."""
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        children = item.values() if isinstance(item, dict) else item if isinstance(item, list) else None
        if children is None:
            continue
        if depth > max_depth:
            return True
        stack.extend((child, depth + 1) for child in children if isinstance(child, (dict, list)))
    return False


def check_depth(value: object, *, max_depth: int = DEFAULT_MAX_DEPTH) -> object:
    if depth_exceeds(value, max_depth=max_depth):
        raise JsonTooDeep(max_depth)
    return value


def loads_limited(text: str | bytes, *, max_depth: int = DEFAULT_MAX_DEPTH) -> object:
    """``json.loads`` that refuses deep nesting with JsonTooDeep instead of RecursionError or a later crash."""
    try:
        value = json.loads(text)
    except RecursionError:
        raise JsonTooDeep(max_depth) from None
    return check_depth(value, max_depth=max_depth)


def describe_decode_error(exc: json.JSONDecodeError) -> str:
    """The real cause of a JSON syntax error, where Python's message hides it (trailing commas, single quotes)."""
    doc, pos = exc.doc, exc.pos
    before = doc[:pos].rstrip()
    at = doc[pos : pos + 1]
    if before.endswith(",") and at in ("}", "]"):
        return f"trailing comma before {at!r} (JSON allows no comma after the last item)"
    if at == "'" and exc.msg.startswith(("Expecting property name", "Expecting value")):
        return "single-quoted string (JSON strings use double quotes)"
    if exc.msg.startswith("Expecting value") and doc[pos : pos + 3] in ("Non", "Tru", "Fal", "nan", "NaN"):
        return f"{doc[pos:pos + 5]!r}... is Python, not JSON (use null, true, false)"
    return exc.msg
