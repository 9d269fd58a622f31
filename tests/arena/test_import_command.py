import json

import pytest
from django.core.management import CommandError, call_command

from arena.models import Dataset

pytestmark = pytest.mark.django_db(transaction=True)


def test_import_registers_a_dataset(tmp_path, capsys):
    path = tmp_path / "adds.jsonl"
    path.write_text("".join(json.dumps({"instruction": f"{i}+{i}", "output": str(2 * i)}) + "\n" for i in range(50)))
    call_command("arena_import", str(path), "--name", "Adds", "--domain", "math", "--quiet")
    dataset = Dataset.objects.get()
    assert (dataset.slug, dataset.sample_count, dataset.owner.username) == ("adds", 50, "arena")
    assert "registered adds: 50 samples (alpaca, jsonl)" in capsys.readouterr().out
    child = tmp_path / "child.jsonl"
    child.write_text(json.dumps({"instruction": "1+1", "output": "2"}) + "\n")
    call_command("arena_import", str(child), "--name", "Child", "--parent", "adds:subset", "--quiet")
    assert Dataset.objects.get(slug="child").parent_edges.get().parent.slug == "adds"


def test_import_failure_leaves_nothing(tmp_path, settings, _isolated_storage):
    settings.ARENA_PREFLIGHT_RECORDS = 2
    path = tmp_path / "bad.jsonl"
    path.write_text((json.dumps({"instruction": "a", "output": "b"}) + "\n") * 2 + "[1]\n")
    with pytest.raises(CommandError, match=r"ingest failed: line 3: expected a JSON object, found list"):
        call_command("arena_import", str(path), "--quiet", "--policy", "strict")
    assert Dataset.objects.count() == 0
    assert [p for p in _isolated_storage.rglob("*") if p.is_file()] == []


def test_import_errors(tmp_path):
    with pytest.raises(CommandError, match="no such file"):
        call_command("arena_import", str(tmp_path / "missing.jsonl"))
    path = tmp_path / "x.jsonl"
    path.write_text("")
    with pytest.raises(CommandError, match="the file is empty"):
        call_command("arena_import", str(path), "--quiet")
    with pytest.raises(CommandError, match="no user 'nobody'"):
        call_command("arena_import", str(path), "--owner", "nobody")
