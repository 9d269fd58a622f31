"""``arena upload --policy`` and ``arena rejects`` over real HTTP against a live Arena server."""
from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest

from arena.client.cli import main
from arena.models import Dataset
from tests.factories import api_token_key

MESSY = Path(__file__).resolve().parent.parent / "data" / "messy_sharegpt.jsonl"


@pytest.fixture
def logged_in(live_server, user, tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    monkeypatch.setenv("ARENA_URL", live_server.url)
    monkeypatch.setenv("ARENA_TOKEN", api_token_key(user))


@pytest.mark.django_db(transaction=True)
def test_upload_repairs_by_default_and_the_rejects_download(logged_in, tmp_path, capsys):
    assert main(["upload", str(MESSY), "--name", "Messy"]) == 0
    out, err = capsys.readouterr()
    assert out.strip() == "messy\tready, 370 samples"
    assert "130 record(s) repaired (drop_leading_assistant 50, merge_same_role 30, drop_empty_turns 25, map_role 15" in err
    assert "30 skipped (" in err and "arena rejects messy -o rejects.jsonl.gz" in err

    target = tmp_path / "rejects.jsonl.gz"
    assert main(["rejects", "messy", "-o", str(target)]) == 0
    entries = [json.loads(line) for line in gzip.decompress(target.read_bytes()).decode().splitlines()]
    assert len(entries) == 30 and all({"line", "rule", "problem", "record"} <= set(e) for e in entries)


@pytest.mark.django_db(transaction=True)
def test_strict_policy_refuses_the_messy_file(logged_in, capsys):
    assert main(["upload", str(MESSY), "--name", "Strict", "--policy", "strict"]) != 0
    _, err = capsys.readouterr()
    assert "line " in err and not Dataset.objects.exists()
