"""Dataset export: JSONL in alpaca/sharegpt/messages, LLaMA-Factory dataset_info, visibility, round trip."""

from __future__ import annotations

import io
import json

import pytest
from rest_framework.test import APIClient

from arena.models import Dataset
from arena.services import dataset_register

RECORDS = [
    {"id": "a1", "instruction": "Add 2 and 2.", "input": "", "output": "4"},
    {
        "id": "a2",
        "instruction": "And times 3?",
        "input": "",
        "output": "12",
        "system": "You are a calculator.",
        "history": [["Add 2 and 2.", "4"], ["Double it.", "8"]],
    },
    {"id": "a3", "instruction": "Translate", "input": "bonjour", "output": "hello"},
]


def _upload(owner, records, *, name="calc", visibility="public", filename="calc.jsonl"):
    handle = io.BytesIO("".join(json.dumps(r) + "\n" for r in records).encode())
    return dataset_register(
        owner=owner, upload=handle, filename=filename, name=name, visibility=visibility, ingest_now=True
    )


def _client(user=None) -> APIClient:
    client = APIClient()
    if user is not None:
        client.force_authenticate(user)
    return client


def _export(client, slug, fmt) -> list[dict]:
    response = client.get(f"/api/v1/datasets/{slug}/export/", {"format": fmt})
    assert response.status_code == 200, response.content
    assert response["Content-Type"].startswith("application/x-ndjson")
    assert f'filename="{slug}.{fmt}.jsonl"' in response["Content-Disposition"]
    body = b"".join(response.streaming_content).decode()
    return [json.loads(line) for line in body.splitlines()]


@pytest.mark.django_db
def test_alpaca_export_puts_earlier_turns_in_history(user):
    dataset = _upload(user, RECORDS)
    assert dataset.status == "ready"
    rows = _export(_client(), dataset.slug, "alpaca")
    assert [r["id"] for r in rows] == ["a1", "a2", "a3"]
    # every row has the same keys (a2 has a system prompt, so every row has "system")
    assert rows[0] == {"id": "a1", "instruction": "Add 2 and 2.", "input": "", "output": "4", "system": "", "history": []}
    assert rows[1]["history"] == [["Add 2 and 2.", "4"], ["Double it.", "8"]]
    assert rows[1]["instruction"] == "And times 3?" and rows[1]["output"] == "12"
    assert rows[1]["system"] == "You are a calculator."
    assert rows[2]["instruction"] == "Translate\n\nbonjour"  # instruction and input were joined at ingest


@pytest.mark.django_db
def test_sharegpt_and_messages_exports_use_their_role_names(user):
    dataset = _upload(user, RECORDS)
    share = _export(_client(), dataset.slug, "sharegpt")
    assert [t["from"] for t in share[1]["conversations"]] == ["system", "human", "gpt", "human", "gpt", "human", "gpt"]
    assert share[0]["conversations"] == [{"from": "human", "value": "Add 2 and 2."}, {"from": "gpt", "value": "4"}]
    msgs = _export(_client(), dataset.slug, "messages")
    assert msgs[1]["messages"][0] == {"role": "system", "content": "You are a calculator."}
    assert [m["role"] for m in msgs[1]["messages"][1:]] == ["user", "assistant"] * 3


@pytest.mark.django_db
@pytest.mark.parametrize("fmt", ["alpaca", "sharegpt", "messages"])
def test_export_reimports_to_the_same_content_hash(user, other_user, fmt):
    original = _upload(user, RECORDS, visibility="private")  # private: other_user's copy is not a duplicate
    body = b"".join(_client(user).get(f"/api/v1/datasets/{original.slug}/export/", {"format": fmt}).streaming_content)
    copy = dataset_register(
        owner=other_user, upload=io.BytesIO(body), filename=f"copy.{fmt}.jsonl", name="copy", ingest_now=True
    )
    assert copy.status == "ready", copy.error
    assert copy.sample_format == ("messages" if fmt == "messages" else fmt)
    assert copy.sample_count == original.sample_count == 3
    assert copy.content_hash == original.content_hash


@pytest.mark.django_db
def test_tool_turns_round_trip_through_sharegpt_but_alpaca_is_refused_before_streaming(user, other_user):
    record = {
        "messages": [
            {"role": "user", "content": "Weather?"},
            {"role": "assistant", "content": "calling"},
            {"role": "tool", "content": "sunny"},
            {"role": "assistant", "content": "It is sunny."},
        ]
    }
    dataset = _upload(user, [record], name="tools", visibility="private")
    response = _client(user).get(f"/api/v1/datasets/{dataset.slug}/export/", {"format": "alpaca"})
    assert response.status_code == 400
    assert "cannot be exported as alpaca" in response.json()["error"]
    assert "role 'tool'" in response.json()["error"]
    share = _export(_client(user), dataset.slug, "sharegpt")
    assert [t["from"] for t in share[0]["conversations"]] == ["human", "gpt", "observation", "gpt"]
    body = "".join(json.dumps(r) + "\n" for r in share).encode()
    copy = dataset_register(owner=other_user, upload=io.BytesIO(body), filename="t.jsonl", name="t", ingest_now=True)
    assert copy.content_hash == dataset.content_hash


@pytest.mark.django_db
def test_export_errors_are_specific(user, other_user):
    dataset = _upload(user, RECORDS, visibility="private")
    url = f"/api/v1/datasets/{dataset.slug}/export/"
    assert _client(other_user).get(url, {"format": "alpaca"}).status_code == 404
    assert _client().get(url, {"format": "alpaca"}).status_code == 404
    bad = _client(user).get(url, {"format": "yaml"})
    assert bad.status_code == 400 and "unknown export format 'yaml'" in bad.json()["error"]
    missing = _client(user).get(url)
    assert missing.status_code == 400 and "expected one of alpaca, sharegpt, messages" in missing.json()["error"]
    Dataset.objects.filter(pk=dataset.pk).update(status="ingesting")
    busy = _client(user).get(url, {"format": "messages"})
    assert busy.status_code == 409 and "not ready" in busy.json()["error"]


@pytest.mark.django_db
def test_dataset_info_entries_follow_llama_factory_format(user, other_user):
    dataset = _upload(user, RECORDS)
    url = f"/api/v1/datasets/{dataset.slug}/export/dataset_info/"
    alpaca = _client().get(url, {"format": "alpaca", "file_name": "calc.jsonl"}).json()
    assert alpaca == {
        dataset.slug: {
            "file_name": "calc.jsonl",
            "formatting": "alpaca",
            "columns": {
                "prompt": "instruction",
                "query": "input",
                "response": "output",
                "system": "system",
                "history": "history",
            },
        }
    }
    share = _client().get(url, {"format": "sharegpt"}).json()[dataset.slug]
    assert share["file_name"] == f"{dataset.slug}.sharegpt.jsonl"
    assert share["formatting"] == "sharegpt" and share["columns"] == {"messages": "conversations"}
    assert share["tags"]["user_tag"] == "human" and share["tags"]["assistant_tag"] == "gpt"
    msgs = _client().get(url, {"format": "messages"}).json()[dataset.slug]
    assert msgs["columns"] == {"messages": "messages"} and msgs["tags"]["role_tag"] == "role"
    bad = _client().get(url, {"format": "messages", "file_name": "../etc/x"})
    assert bad.status_code == 400 and "bare file name" in bad.json()["error"]
    Dataset.objects.filter(pk=dataset.pk).update(visibility="private")
    assert _client(other_user).get(url, {"format": "alpaca"}).status_code == 404
