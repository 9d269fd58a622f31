"""Write tests/data/messy_sharegpt.jsonl: 400 ShareGPT-style conversations with the faults real dumps have.

Deterministic (seeded); the text is written here, not copied from any dump. Run it to regenerate the file:
``python tests/data/make_messy_sharegpt.py``. ``EXPECTED`` states, per fault, how many records carry it, so
tests can check the ingest report exactly.
"""
from __future__ import annotations

import json
import random
from pathlib import Path

OUT = Path(__file__).with_name("messy_sharegpt.jsonl")

TOPICS = [
    ("How do I reverse a list in Python?", "Use slicing: `items[::-1]` returns a reversed copy; `items.reverse()` reverses in place."),
    ("What causes the seasons on Earth?", "The tilt of Earth's axis, about 23.4 degrees, changes how directly sunlight hits each hemisphere."),
    ("Give me a haiku about rain.", "Soft rain on the roof\nthe gutters hum a low song\nthe street shines like glass"),
    ("Explain what a hash map is.", "A hash map stores key/value pairs in buckets chosen by hashing the key, giving average O(1) lookups."),
    ("Translate 'good morning' into Spanish.", "Buenos días."),
    ("What is 17 times 23?", "17 x 23 = 391."),
    ("Summarise the plot of a heist film in two sentences.", "A crew plans to rob an impregnable vault. Betrayal turns the job upside down."),
    ("How should I store fresh basil?", "Trim the stems and keep them in a glass of water at room temperature, loosely covered."),
]
FOLLOW_UPS = [
    ("Can you give an example?", "Sure: `[1, 2, 3][::-1]` gives `[3, 2, 1]`."),
    ("Why does that work?", "Because each step builds on the previous result."),
    ("Shorter, please.", "In short: yes."),
]
WEATHER_TOOL = [{"type": "function", "function": {"name": "get_weather", "description": "Current weather for a city",
                 "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}}]

# kind -> number of records of that kind
EXPECTED = {
    "clean": 180,
    "clean_multi_turn": 40,
    "clean_tool_call": 20,
    "leading_assistant": 50,  # repaired: drop_leading_assistant (and the role names map: human/gpt)
    "repeated_user": 30,  # repaired: merge_same_role
    "empty_turn": 25,  # repaired: drop_empty_turns (an empty user turn before the real one)
    "alias_roles": 15,  # repaired: map_role (bot, ai, chatbot, prompter, question/answer)
    "unanswered_tail": 10,  # repaired: drop_unanswered_tail
    "unknown_role": 10,  # rejected: unknown_role
    "only_assistant": 8,  # rejected: no_messages (nothing left after dropping leading assistant turns)
    "bad_json": 7,  # rejected: invalid_json (trailing comma)
    "empty_reply": 5,  # rejected: empty_reply (a tool call with no final answer)
}


def turn(role: str, value: str, **extra) -> dict:
    return {"from": role, "value": value, **extra}


def record(kind: str, n: int, rng: random.Random) -> dict | str:
    question, answer = TOPICS[n % len(TOPICS)]
    question = f"{question} (#{n})"
    follow_q, follow_a = FOLLOW_UPS[n % len(FOLLOW_UPS)]
    base = {"id": f"conv-{n:04d}"}
    if kind == "clean":
        conv = [turn("human", question), turn("gpt", answer)]
        if n % 3 == 0:
            return {**base, "system": "You are a concise assistant.", "conversations": conv}
        return {**base, "conversations": conv}
    if kind == "clean_multi_turn":
        return {**base, "conversations": [turn("human", question), turn("gpt", answer), turn("human", follow_q), turn("gpt", follow_a)]}
    if kind == "clean_tool_call":
        city = rng.choice(["Lisbon", "Oslo", "Nairobi", "Lima"])
        call = [{"id": f"call_{n}", "type": "function", "function": {"name": "get_weather", "arguments": json.dumps({"city": city})}}]
        return {**base, "tools": json.dumps(WEATHER_TOOL), "conversations": [
            turn("human", f"What's the weather in {city}? (#{n})"),
            turn("gpt", "", tool_calls=call),
            turn("observation", json.dumps({"city": city, "temp_c": rng.randint(-5, 35)}), tool_call_id=f"call_{n}", name="get_weather"),
            turn("gpt", f"It is currently mild in {city}."),
        ]}
    if kind == "leading_assistant":
        return {**base, "conversations": [turn("gpt", "Hello! How can I help you today?"), turn("human", question), turn("gpt", answer)]}
    if kind == "repeated_user":
        return {**base, "conversations": [turn("human", question), turn("human", "Please be brief."), turn("gpt", answer)]}
    if kind == "empty_turn":
        return {**base, "conversations": [turn("human", "  "), turn("human", question), turn("gpt", answer)]}
    if kind == "alias_roles":
        user, bot = [("user", "bot"), ("prompter", "ai"), ("human", "chatbot"), ("question", "answer"), ("user", "Bot")][n % 5]
        return {**base, "messages": [{"from": user, "value": question}, {"from": bot, "value": answer}]}
    if kind == "unanswered_tail":
        return {**base, "conversations": [turn("human", question), turn("gpt", answer), turn("human", "Thanks! One more thing...")]}
    if kind == "unknown_role":
        return {**base, "conversations": [turn("narrator", "The scene opens."), turn("human", question), turn("gpt", answer)]}
    if kind == "only_assistant":
        return {**base, "conversations": [turn("gpt", "I am a helpful assistant."), turn("gpt", answer)]}
    if kind == "bad_json":
        return '{"id": "conv-%04d", "conversations": [{"from": "human", "value": "%s"}, {"from": "gpt", "value": "ok"},]}' % (n, f"Broken record {n}")
    if kind == "empty_reply":
        call = [{"id": f"call_{n}", "type": "function", "function": {"name": "get_weather", "arguments": "{}"}}]
        return {**base, "conversations": [turn("human", question), turn("gpt", "", tool_calls=call)]}
    raise ValueError(kind)


def build() -> list[str]:
    rng = random.Random(11)
    kinds = [kind for kind, count in EXPECTED.items() for _ in range(count)]
    rng.shuffle(kinds)
    lines = []
    for n, kind in enumerate(kinds):
        item = record(kind, n, rng)
        lines.append(item if isinstance(item, str) else json.dumps(item, ensure_ascii=False))
    return lines


def kinds_by_line() -> dict[int, str]:
    rng = random.Random(11)
    kinds = [kind for kind, count in EXPECTED.items() for _ in range(count)]
    rng.shuffle(kinds)
    return {n + 1: kind for n, kind in enumerate(kinds)}


if __name__ == "__main__":
    OUT.write_text("\n".join(build()) + "\n", encoding="utf-8")
    print(f"wrote {OUT} ({sum(EXPECTED.values())} records)")
