"""``arena score``, ``train``, ``leaderboard`` and ``lineage`` against the other apps' real endpoints."""

from __future__ import annotations

import json

import pytest
from tests.factories import api_token_key

from arena.client.cli import main
from arena.services import dataset_register
from training.models import BaseModel

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def logged_in(live_server, user, monkeypatch, tmp_path):
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    monkeypatch.setenv("ARENA_URL", live_server.url)
    monkeypatch.setenv("ARENA_TOKEN", api_token_key(user))
    return user


@pytest.fixture
def dataset(logged_in, make_upload):
    rows = "".join(
        json.dumps({"instruction": f"Explain item {i} in words.", "input": "", "output": f"Item {i} is fine."}) + "\n"
        for i in range(30)
    )
    return dataset_register(
        owner=logged_in, upload=make_upload(rows), filename="d.jsonl", name="Parent", ingest_now=True
    )


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_score_waits_for_the_run_and_reports_its_status(dataset, capsys):
    code, out, err = run(
        capsys, "score", dataset.slug, "--scorer", "response_tokens", "--scorer", "mtld", "--wait", "--json"
    )
    assert code == 0, err
    body = json.loads(out)
    assert body["status"] == "succeeded" and body["dataset"] == dataset.slug
    code, _, err = run(capsys, "score", dataset.slug, "--scorer", "no_such_scorer")
    assert code == 1 and "no_such_scorer" in err and err.startswith("arena: error: HTTP 400")
    code, _, err = run(capsys, "score", dataset.slug, "--scorer", "mtld", "--config", 'ifd={"a": 1}')
    assert code == 1 and "--config given for scorer(s) not requested with --scorer: ifd" in err


def test_train_surfaces_unknown_models_and_leaderboard_renders(dataset, capsys):
    code, _, err = run(
        capsys, "train", dataset.slug, "--base-model", "ghost", "--seeds", "0,1", "--recipe", "r", "--benchmark", "b"
    )
    assert code == 1 and "ghost" in err and err.count("\n") == 1
    BaseModel.objects.create(name="Tiny", slug="tiny", path='tiny:{"layers": 1}')
    code, out, err = run(capsys, "leaderboard", "--base-model", "tiny", "--json")
    assert code == 0, err
    board = json.loads(out)
    assert board["base_model"]["slug"] == "tiny" and board["rows"] == []
    code, out, err = run(capsys, "leaderboard", "--base-model", "tiny")
    assert code == 0 and "leaderboard: tiny / overall (0 datasets)" in out
    code, out, err = run(capsys, "leaderboard", "--base-model", "tiny", "--csv")
    assert code == 0, err
    assert out.splitlines()[0].startswith("rank,dataset,name,")  # the server's CSV, passed through as is
    code, _, err = run(capsys, "leaderboard", "--base-model", "ghost")
    assert code == 1 and "ghost" in err


def test_lineage_prints_json_to_stdout(dataset, make_upload, logged_in, capsys):
    child_rows = "".join(
        json.dumps({"instruction": f"Child {i}", "input": "", "output": "ok"}) + "\n" for i in range(5)
    )
    code_file = make_upload(child_rows)
    from arena.services import ParentSpec

    child = dataset_register(
        owner=logged_in,
        upload=code_file,
        filename="c.jsonl",
        name="Child",
        parents=[ParentSpec(dataset=dataset)],
        ingest_now=True,
    )
    code, out, err = run(capsys, "lineage", child.slug, "--depth", "2")
    assert code == 0, err
    graph = json.loads(out)
    assert dataset.slug in out and child.slug in out and graph
    code, _, err = run(capsys, "lineage", "missing-slug")
    assert code == 1 and "missing-slug" in err
