"""Declared edges: bulk JSONL import (service, API, command), permissions, history on re-declare."""
from __future__ import annotations

import io
import json

import pytest
from django.core.management import CommandError, call_command
from rest_framework.test import APIClient

from arena.errors import Forbidden, InvalidInput
from lineage.models import LineageEdge
from lineage.services import edge_create, edge_declare, edges_import_jsonl
from tests.lineage.conftest import synthetic_samples


def _file(lines: list) -> io.BytesIO:
    handle = io.BytesIO("\n".join(line if isinstance(line, str) else json.dumps(line) for line in lines).encode())
    handle.name = "edges.jsonl"
    return handle


@pytest.fixture
def trio(user, other_user, make_dataset):
    return {
        "p": make_dataset(user, "parent-set", synthetic_samples(5, seed=21)),
        "c": make_dataset(user, "child-set", synthetic_samples(5, seed=22)),
        "theirs": make_dataset(other_user, "their-set", synthetic_samples(5, seed=23)),
        "secret": make_dataset(other_user, "their-secret", synthetic_samples(5, seed=24), visibility="private"),
    }


@pytest.mark.django_db
def test_import_creates_all_edges(user, trio):
    edges = edges_import_jsonl(
        user=user,
        upload=_file(
            [
                {"target": "child-set", "source": "parent-set", "relationship": "filtered", "confidence": 0.9, "evidence": "paper"},
                "",
                {"target": "child-set", "source": "their-set", "relationship": "semantic evolution"},
            ]
        ),
    )
    assert [(e.parent.slug, e.relation, e.confidence) for e in edges] == [
        ("parent-set", "subset", 0.9),
        ("their-set", "evolution", 1.0),
    ]
    assert all(e.origin == "declared" and e.created_by == user for e in edges)


@pytest.mark.django_db
def test_import_errors_are_line_numbered_and_nothing_is_written(user, trio):
    lines = [
        {"target": "child-set", "source": "parent-set", "relationship": "subset"},  # fine
        "{not json",
        {"target": "child-set", "source": "nope", "relationship": "subset"},
        {"target": "child-set", "source": "parent-set", "relationship": "cousin"},
        {"target": "child-set", "source": "parent-set", "relationship": "subset", "confidence": 1.5},
        {"target": "their-set", "source": "parent-set", "relationship": "subset"},
        {"target": "child-set", "source": trio["secret"].slug, "relationship": "subset"},
        {"target": "child-set", "source": "child-set", "relationship": "subset"},
        {"target": "child-set", "source": "parent-set", "relationship": "subset", "colour": "red"},
        [1, 2],
    ]
    with pytest.raises(InvalidInput) as excinfo:
        edges_import_jsonl(user=user, upload=_file(lines))
    message = excinfo.value.message
    assert "nothing was written" in message
    assert "line 2: not valid JSON" in message
    assert "line 3: source dataset 'nope' does not exist" in message
    assert "line 4: unknown relationship 'cousin'" in message
    assert "line 5: confidence must be a number between 0 and 1" in message
    assert "line 6: only the owner of 'their-set'" in message
    assert f"line 7: source dataset '{trio['secret'].slug}' does not exist" in message  # private: indistinguishable
    assert "line 8: target and source are the same" in message
    assert "line 9: unknown field(s) colour" in message
    assert "line 10: expected a JSON object" in message
    assert "line 1:" not in message
    assert LineageEdge.objects.count() == 0


@pytest.mark.django_db
def test_import_empty_file_is_refused(user):
    with pytest.raises(InvalidInput, match="no edges"):
        edges_import_jsonl(user=user, upload=_file(["", "  "]))


@pytest.mark.django_db
def test_import_command(user, trio, tmp_path):
    path = tmp_path / "edges.jsonl"
    path.write_text(json.dumps({"target": "child-set", "source": "parent-set", "relationship": "distillation"}) + "\n")
    out = io.StringIO()
    call_command("arena_lineage_import", str(path), "--user", "alice", stdout=out)
    assert "declared 1 lineage edge" in out.getvalue()
    assert LineageEdge.objects.get().relation == "distillation"
    path.write_text('{"target": "child-set"}\n')
    with pytest.raises(CommandError, match="line 1: 'source' is required"):
        call_command("arena_lineage_import", str(path), "--user", "alice")
    with pytest.raises(CommandError, match="no user"):
        call_command("arena_lineage_import", str(path), "--user", "nobody")


@pytest.mark.django_db
def test_import_api(user, other_user, trio):
    client = APIClient()
    client.force_authenticate(user)
    good = _file([{"target": "child-set", "source": "parent-set", "relationship": "mixture"}])
    response = client.post("/api/v1/lineage/edges/import/", {"file": good}, format="multipart")
    assert response.status_code == 201, response.json()
    assert response.json()["created"] == 1
    bad = _file([{"target": "child-set", "source": "parent-set", "relationship": "subset"}, "oops"])
    response = client.post("/api/v1/lineage/edges/import/", {"file": bad}, format="multipart")
    assert response.status_code == 400
    assert response.json()["code"] == "invalid" and "line 2" in response.json()["error"]
    assert LineageEdge.objects.count() == 1
    assert APIClient().post("/api/v1/lineage/edges/import/", {"file": _file(["{}"])}, format="multipart").status_code in (401, 403)


@pytest.mark.django_db
def test_redeclare_keeps_history(user, trio):
    first = edge_declare(child=trio["c"], parent=trio["p"], relation="subset", evidence="v1")
    second = edge_declare(child=trio["c"], parent=trio["p"], relation="mixture", evidence="v2")
    first.refresh_from_db()
    assert first.superseded_at is not None and first.relation == "subset" and first.evidence == "v1"
    assert second.superseded_at is None
    client = APIClient()
    client.force_authenticate(user)
    current = client.get("/api/v1/lineage/edges/", {"dataset": "child-set"}).json()["results"]
    assert [(e["relation"], e["evidence"]) for e in current] == [("mixture", "v2")]
    history = client.get("/api/v1/lineage/edges/", {"dataset": "child-set", "history": "true"}).json()["results"]
    assert [(e["relation"], e["superseded_at"] is None) for e in history] == [("mixture", True), ("subset", False)]


@pytest.mark.django_db
def test_edge_create_api_owner_only(user, other_user, trio):
    client = APIClient()
    client.force_authenticate(other_user)
    body = {"child": "child-set", "parent": "parent-set", "relation": "subset", "evidence": "x"}
    response = client.post("/api/v1/lineage/edges/", body, format="json")
    assert response.status_code == 403 and "only the owner" in response.json()["error"]
    client.force_authenticate(user)
    response = client.post("/api/v1/lineage/edges/", body, format="json")
    assert response.status_code == 201 and response.json()["origin"] == "declared"
    response = client.post("/api/v1/lineage/edges/", dict(body, parent=trio["secret"].slug), format="json")
    assert response.status_code == 404
    response = client.post("/api/v1/lineage/edges/", dict(body, relation="cousin"), format="json")
    assert response.status_code == 400
    with pytest.raises(Forbidden):
        edge_create(user=user, child=trio["c"], parent=trio["secret"], relation="subset")
