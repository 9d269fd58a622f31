"""A filtered subset keeps every field of its samples: system prompts, tool calls and results, weights."""
from __future__ import annotations

import json

import pytest
from rest_framework.test import APIClient

from arena.exports import dataset_export_lines
from arena.models import Dataset
from tests.factories import ready_dataset


def _record(i: int) -> dict:
    call = [{"id": f"c{i}", "type": "function", "function": {"name": "lookup", "arguments": json.dumps({"n": i})}}]
    answer = f"<think>checking {i}</think>Item {i} is fine." if i % 2 else f"Item {i} is fine."
    return {
        "id": f"r{i}",
        "tools": [{"type": "function", "function": {"name": "lookup", "parameters": {"type": "object"}}}],
        "messages": [
            {"role": "system", "content": f"System prompt {i}."},
            {"role": "user", "content": f"Look up item {i}."},
            {"role": "assistant", "content": None, "tool_calls": call},
            {"role": "tool", "content": json.dumps({"n": i, "ok": True}), "tool_call_id": f"c{i}", "name": "lookup"},
            {"role": "assistant", "content": answer, "weight": 1.0},
        ],
    }


@pytest.mark.django_db
def test_filtered_subset_keeps_system_prompts_and_tool_calls(user):
    content = "".join(json.dumps(_record(i)) + "\n" for i in range(12))
    parent = ready_dataset(owner=user, name="Tools", content=content)
    client = APIClient()
    client.force_authenticate(user)
    run = client.post("/api/v1/scoring/runs/", {"dataset": parent.slug, "scorers": ["think_tag"]}, format="json")
    assert run.json()["status"] == "succeeded", run.json()
    response = client.post(
        f"/api/v1/datasets/{parent.slug}/scores/export/",
        {"name": "Thinking", "filters": ["think_tag.raw:1:"]},
        format="json",
    )
    assert response.status_code == 201, response.json()
    child = Dataset.objects.get(slug=response.json()["slug"])
    assert child.status == "ready" and child.sample_count == 6

    def records(dataset):
        return {r["id"]: r for r in map(json.loads, b"".join(dataset_export_lines(dataset=dataset, export_format="messages")).splitlines())}

    parent_records, child_records = records(parent), records(child)
    assert set(child_records) == {f"r{i}" for i in range(1, 12, 2)}
    for sample_id, record in child_records.items():
        assert record == parent_records[sample_id]  # nothing lost: system, tools, tool_calls, tool results, weight
        assert record["messages"][0] == {"role": "system", "content": f"System prompt {sample_id[1:]}.", "tool_calls": None,
                                         "tool_call_id": None, "name": None, "weight": None}  # same keys in every message
        assert record["messages"][2]["tool_calls"][0]["function"]["name"] == "lookup"
