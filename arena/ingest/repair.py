"""The ingest policies and the documented repair rules.

``strict`` refuses the upload at the first record that breaks a rule. ``repair`` (the default for new
uploads) repairs a broken record by the rules below, in this order, and skips (rejects) a record that is
still broken afterwards. A record that ``strict`` accepts is never changed by ``repair``.

* ``map_role`` - a role name the format does not define but that clearly means one of user / assistant /
  system / tool (``human``, ``gpt``, ``bot``, ``chatgpt``, ``model``, ``ai``, ``prompter``, ``function``...)
  is mapped to it. Any other role rejects the record (``unknown_role``).
* ``replace_lone_surrogates`` - text with a lone UTF-16 surrogate (e.g. ``"\\ud800"`` in JSON) gets U+FFFD.
* ``drop_empty_turns`` - user and assistant turns with no text (and no tool calls) are removed.
* ``drop_leading_assistant`` - assistant and tool turns before the first user turn are removed.
* ``merge_same_role`` - consecutive user turns (and consecutive plain assistant turns) are joined into
  one, separated by a blank line.
* ``drop_unanswered_tail`` - user or tool turns after the last assistant turn are removed.
"""
from __future__ import annotations

POLICIES = ("strict", "repair")
DEFAULT_POLICY = "repair"

REPAIR_RULES = (
    "map_role",
    "replace_lone_surrogates",
    "drop_empty_turns",
    "drop_leading_assistant",
    "merge_same_role",
    "drop_unanswered_tail",
)

# Role names seen in public dumps, mapped to the normalised roles (lower-cased, stripped).
ROLE_ALIASES = {
    "human": "user",
    "user": "user",
    "prompter": "user",
    "question": "user",
    "instruction": "user",
    "gpt": "assistant",
    "assistant": "assistant",
    "bot": "assistant",
    "ai": "assistant",
    "chatgpt": "assistant",
    "chatbot": "assistant",
    "bard": "assistant",
    "bing": "assistant",
    "claude": "assistant",
    "model": "assistant",
    "answer": "assistant",
    "response": "assistant",
    "function_call": "assistant",
    "system": "system",
    "developer": "system",
    "tool": "tool",
    "function": "tool",
    "function_response": "tool",
    "observation": "tool",
    "ipython": "tool",
}


def policy_check(policy: str) -> str:
    from arena.ingest.errors import IngestError

    if policy not in POLICIES:
        raise IngestError(f"unknown ingest policy {policy!r}; expected one of {', '.join(POLICIES)}", rule="bad_option")
    return policy


def _is_empty(message: dict) -> bool:
    return message["role"] in ("user", "assistant") and not message["content"].strip() and not message.get("tool_calls")


def _plain_assistant(message: dict) -> bool:
    return message["role"] == "assistant" and not message.get("tool_calls")


def _mergeable(a: dict, b: dict) -> bool:
    if a["role"] != b["role"] or a["role"] not in ("user", "assistant"):
        return False
    if a["role"] == "assistant" and not (_plain_assistant(a) and _plain_assistant(b)):
        return False
    extras = lambda m: {k: v for k, v in m.items() if k != "content" and v is not None}  # noqa: E731
    return extras(a) == extras(b)


def repair_messages(messages: list[dict]) -> tuple[list[dict], list[str]]:
    """Apply the structural rules in order; returns the repaired messages and the rules that changed them."""
    applied: list[str] = []
    kept = [m for m in messages if not _is_empty(m)]
    if len(kept) != len(messages):
        applied.append("drop_empty_turns")
    first_user = next((i for i, m in enumerate(kept) if m["role"] == "user"), len(kept))
    if first_user:
        kept = kept[first_user:]
        applied.append("drop_leading_assistant")
    merged: list[dict] = []
    for message in kept:
        if merged and _mergeable(merged[-1], message):
            merged[-1] = {**merged[-1], "content": merged[-1]["content"] + "\n\n" + message["content"]}
            if "merge_same_role" not in applied:
                applied.append("merge_same_role")
        else:
            merged.append(dict(message))
    last_assistant = max((i for i, m in enumerate(merged) if m["role"] == "assistant"), default=-1)
    if 0 <= last_assistant < len(merged) - 1:
        merged = merged[: last_assistant + 1]
        applied.append("drop_unanswered_tail")
    return merged, applied
