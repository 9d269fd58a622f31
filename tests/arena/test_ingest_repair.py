"""The repair policy on a realistic messy ShareGPT dump: exact counts per rule, a rejects file, the threshold."""
from __future__ import annotations

import gzip
import io
import json
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from django.core.files.storage import default_storage
from rest_framework.test import APIClient

from arena.errors import InvalidInput
from arena.ingest.errors import IngestError
from arena.ingest.pipeline import ingest_file
from arena.ingest.schema import canonical_message
from arena.models import Dataset
from arena.services import dataset_register
from arena.uploads import dataset_preview
from tests.data.make_messy_sharegpt import EXPECTED, kinds_by_line

MESSY = Path(__file__).resolve().parent.parent / "data" / "messy_sharegpt.jsonl"
REPAIRED = {
    "drop_leading_assistant": EXPECTED["leading_assistant"],
    "merge_same_role": EXPECTED["repeated_user"],
    "drop_empty_turns": EXPECTED["empty_turn"],
    "map_role": EXPECTED["alias_roles"],
    "drop_unanswered_tail": EXPECTED["unanswered_tail"],
}
REJECTED = {
    "unknown_role": EXPECTED["unknown_role"],
    "no_messages": EXPECTED["only_assistant"],
    "invalid_json": EXPECTED["bad_json"],
    "empty_reply": EXPECTED["empty_reply"],
}


def _ingest(tmp_path, path: Path, **kwargs):
    out = tmp_path / "out.parquet"
    result = ingest_file(path=str(path), filename=path.name, out_path=str(out), max_record_bytes=1 << 20, **kwargs)
    return result, pq.read_table(out).to_pylist()


def test_repair_counts_every_rule_exactly_and_writes_the_rejects(tmp_path):
    rejects = tmp_path / "rejects.jsonl.gz"
    result, rows = _ingest(tmp_path, MESSY, policy="repair", rejects_path=str(rejects))
    report = result.report
    assert report["records"] == sum(EXPECTED.values()) == 400
    assert report["repairs"] == REPAIRED
    assert report["rejects"] == REJECTED
    assert report["rejected"] == sum(REJECTED.values()) == 30
    assert report["repaired"] == sum(REPAIRED.values())
    assert report["samples"] == result.sample_count == len(rows) == 370
    kinds = kinds_by_line()
    with gzip.open(rejects, "rt", encoding="utf-8") as handle:
        entries = [json.loads(line) for line in handle]
    assert len(entries) == 30
    original_lines = MESSY.read_text(encoding="utf-8").splitlines()
    expected_rule = {"unknown_role": "unknown_role", "only_assistant": "no_messages", "bad_json": "invalid_json",
                     "empty_reply": "empty_reply"}
    for entry in entries:
        assert entry["rule"] == expected_rule[kinds[entry["line"]]]
        assert entry["location"] == f"line {entry['line']}" and entry["problem"]
        original = original_lines[entry["line"] - 1]
        if entry["rule"] == "invalid_json":  # unreadable: the line itself, and the real cause
            assert entry["record"] == original and "trailing comma" in entry["problem"]
        else:
            assert entry["record"] == json.loads(original)


def test_repaired_records_are_well_formed_and_keep_tool_calls(tmp_path):
    _, rows = _ingest(tmp_path, MESSY, policy="repair")
    by_id = {row["id"]: row for row in rows}
    kinds = kinds_by_line()
    for line, kind in kinds.items():
        row = by_id.get(f"conv-{line - 1:04d}")
        if kind in ("unknown_role", "only_assistant", "bad_json", "empty_reply"):
            assert row is None
            continue
        roles = [m["role"] for m in row["messages"]]
        assert roles[0] == "user" and roles[-1] == "assistant" and ("user", "user") not in zip(roles, roles[1:])
        if kind == "repeated_user":
            assert row["messages"][0]["content"].endswith("\n\nPlease be brief.")
        if kind == "clean_tool_call":
            call = canonical_message(row["messages"][1])
            assert json.loads(call["tool_calls"])[0]["function"]["name"] == "get_weather" and call["content"] == ""
            result = canonical_message(row["messages"][2])
            assert result["role"] == "tool" and result["name"] == "get_weather" and result["tool_call_id"]
            assert json.loads(row["tools"])[0]["function"]["name"] == "get_weather"


def test_strict_refuses_at_the_first_broken_record(tmp_path):
    first_bad = min(line for line, kind in kinds_by_line().items() if kind not in ("clean", "clean_multi_turn", "clean_tool_call"))
    with pytest.raises(IngestError, match=rf"^line {first_bad}: "):
        _ingest(tmp_path, MESSY, policy="strict")


def test_a_clean_file_is_unchanged_by_repair(tmp_path):
    clean = [line for line, kind in zip(MESSY.read_text().splitlines(), kinds_by_line().values())
             if kind.startswith("clean")]
    path = tmp_path / "clean.jsonl"
    path.write_text("\n".join(clean) + "\n")
    strict, strict_rows = _ingest(tmp_path, path, policy="strict")
    repaired, repaired_rows = _ingest(tmp_path, path, policy="repair")
    assert strict_rows == repaired_rows and strict.content_hash == repaired.content_hash
    assert repaired.report["repaired"] == repaired.report["rejected"] == 0


def test_threshold_refuses_with_the_counts(tmp_path):
    lines = ['{"conversations": [{"from": "narrator", "value": "x"}]}'] * 6 + [
        json.dumps({"conversations": [{"from": "human", "value": "q"}, {"from": "gpt", "value": "a"}]})
    ] * 4
    path = tmp_path / "mostly-bad.jsonl"
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(IngestError) as info:
        _ingest(tmp_path, path, policy="repair", rejects_path=str(tmp_path / "r.gz"))
    message = str(info.value)
    assert "refused: 6 of 10 records (60%)" in message and "unknown_role 6" in message
    assert "more than the 50% allowed (ARENA_INGEST_MAX_REJECT_FRACTION)" in message
    assert not (tmp_path / "out.parquet").exists() and not (tmp_path / "r.gz").exists()
    result, _ = _ingest(tmp_path, path, policy="repair", max_reject_fraction=0.7)
    assert result.sample_count == 4


def test_lone_surrogates_and_nul_in_records(tmp_path):
    path = tmp_path / "odd.jsonl"
    path.write_text(
        '{"instruction": "a\\ud800b", "output": "ok"}\n{"instruction": "nul \\u0000 inside", "output": "fine"}\n'
    )
    with pytest.raises(IngestError, match=r"line 1: field 'instruction' holds a lone UTF-16 surrogate '\\ud800'"):
        _ingest(tmp_path, path, policy="strict")
    result, rows = _ingest(tmp_path, path, policy="repair")
    assert rows[0]["messages"][0]["content"] == "a\ufffdb" and rows[1]["messages"][0]["content"] == "nul \x00 inside"
    assert result.report["repairs"] == {"replace_lone_surrogates": 1}


def test_deep_nesting_is_a_reject_not_a_crash(tmp_path):
    deep = '{"instruction": "q", "output": "a", "extra": ' + "[" * 100_000 + "]" * 100_000 + "}"
    good = json.dumps({"instruction": "q2", "output": "a2"})
    path = tmp_path / "deep.jsonl"
    path.write_text("\n".join([good, deep, good.replace("q2", "q3")]) + "\n")
    with pytest.raises(IngestError, match=r"line 2: the record is nested deeper than 64 levels"):
        _ingest(tmp_path, path, policy="strict")
    result, _ = _ingest(tmp_path, path, policy="repair")
    assert result.report["rejects"] == {"too_deep": 1} and result.sample_count == 2
    array = tmp_path / "deep.json"
    array.write_text("[" + good + "," + deep + "]")
    with pytest.raises(IngestError, match=r"record 2, byte offset \d+: the record is nested deeper than 64 levels"):
        _ingest(tmp_path, array, policy="strict")


# --- through the registry, the API and the pages -----------------------------------------------------


def _messy_upload():
    handle = io.BytesIO(MESSY.read_bytes())
    handle.name = MESSY.name
    return handle


def test_dataset_records_the_report_and_serves_the_rejects(user, client):
    dataset = dataset_register(owner=user, upload=_messy_upload(), filename=MESSY.name, name="Messy", ingest_now=True)
    assert dataset.status == Dataset.Status.READY and dataset.ingest_policy == "repair"
    assert dataset.sample_count == 370 and dataset.ingest_report["rejects"] == REJECTED
    assert dataset.rejects_file == f"datasets/{dataset.pk}/rejects.jsonl.gz"
    assert dataset.stored_bytes == default_storage.size(dataset.samples_file) + default_storage.size(dataset.rejects_file)

    api = APIClient()
    body = api.get(f"/api/v1/datasets/{dataset.slug}/").json()
    assert body["ingest_report"]["repairs"] == REPAIRED and body["rejects_url"].endswith(f"/datasets/{dataset.slug}/rejects/")
    download = api.get(f"/api/v1/datasets/{dataset.slug}/rejects/")
    assert download.status_code == 200 and download["Content-Type"] == "application/gzip"
    lines = gzip.decompress(b"".join(download.streaming_content)).decode().splitlines()
    assert len(lines) == 30 and {json.loads(line)["rule"] for line in lines} == set(REJECTED)

    page = client.get(f"/datasets/{dataset.slug}/").content.decode()
    assert "Ingest report" in page and "drop_leading_assistant: 50" in page and "unknown_role: 10" in page
    assert f'href="/api/v1/datasets/{dataset.slug}/rejects/"' in page


def test_clean_dataset_has_no_rejects_file(user):
    content = json.dumps({"instruction": "q", "output": "a"}) + "\n"
    handle = io.BytesIO(content.encode())
    dataset = dataset_register(owner=user, upload=handle, filename="c.jsonl", name="Clean", ingest_now=True)
    assert dataset.rejects_file == "" and dataset.ingest_report["rejected"] == 0
    assert APIClient().get(f"/api/v1/datasets/{dataset.slug}/rejects/").status_code == 404


def test_strict_upload_is_refused_with_the_first_error(user):
    with pytest.raises(InvalidInput, match=r"^line \d+: "):
        dataset_register(owner=user, upload=_messy_upload(), filename=MESSY.name, name="M", policy="strict")
    assert Dataset.objects.count() == 0


def test_unknown_policy_is_a_clear_400(user):
    api = APIClient()
    api.force_authenticate(user)
    response = api.post("/api/v1/datasets/", {"name": "x", "file": _messy_upload(), "policy": "lenient"}, format="multipart")
    assert response.status_code == 400 and "policy" in response.json()["error"]


def test_preview_reports_without_registering(user, client):
    preview = dataset_preview(owner=user, upload=_messy_upload(), filename=MESSY.name)
    assert preview["sample_format"] == "sharegpt" and preview["complete"] is True
    assert preview["report"]["repairs"] == REPAIRED and preview["report"]["rejected"] == 30
    api = APIClient()
    api.force_authenticate(user)
    body = api.post("/api/v1/datasets/preview/", {"file": _messy_upload(), "policy": "repair"}, format="multipart").json()
    assert body["report"]["rejects"] == REJECTED
    strict = api.post("/api/v1/datasets/preview/", {"file": _messy_upload(), "policy": "strict"}, format="multipart")
    assert strict.status_code == 400 and strict.json()["error"].startswith("line ")
    client.force_login(user)
    page = client.post("/datasets/upload/", {"file": _messy_upload(), "preview": "1", "policy": "repair"})
    html = page.content.decode()
    assert page.status_code == 200 and "Preview" in html and "merge_same_role: 30" in html
    assert Dataset.objects.count() == 0


def test_upload_form_labels_the_policy(user, client):
    client.force_login(user)
    html = client.get("/datasets/upload/").content.decode()
    assert "Ingest policy" in html and 'value="repair"' in html and "checked" in html.split('value="repair"')[1][:40]
