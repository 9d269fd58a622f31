"""Scoring REST API: scorer catalog, runs, aggregates, filtered scores, export as a child dataset, permissions."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from arena.models import Dataset
from lineage.models import LineageEdge
from scoring.models import ScoringRun


@pytest.fixture
def alice(user):
    client = APIClient()
    client.force_authenticate(user)
    return client


@pytest.fixture
def bob(other_user):
    client = APIClient()
    client.force_authenticate(other_user)
    return client


def _start(client, slug, scorers, **extra):
    return client.post("/api/v1/scoring/runs/", {"dataset": slug, "scorers": scorers, **extra}, format="json")


@pytest.mark.django_db
def test_scorer_catalog_lists_metadata():
    body = APIClient().get("/api/v1/scorers/").json()
    by_name = {s["name"]: s for s in body}
    assert len([s for s in body if not s["needs_model"]]) >= 12
    mtld = by_name["mtld"]
    assert mtld["reads"] == "A" and mtld["raw_range"] == [0, 200] and mtld["higher_is_better"] is True
    assert mtld["options"] == {"threshold": 0.72} and mtld["scope"] == "sample"


@pytest.mark.django_db
def test_start_run_and_read_status(alice, user, make_dataset):
    dataset = make_dataset(owner=user, n=12)
    response = _start(alice, dataset.slug, [{"name": "mtld"}, {"name": "think_tag"}], chunk_rows=5)
    assert response.status_code == 202, response.json()
    body = response.json()
    assert body["status"] == "succeeded" and body["progress"] == 1.0
    assert body["chunks"] == {"total": 3, "done": 3, "running": 0, "failed": 0}
    assert [s["name"] for s in body["scorers"]] == ["mtld", "think_tag"]
    assert all(len(s["config_hash"]) == 16 for s in body["scorers"])

    detail = alice.get(f"/api/v1/scoring/runs/{body['id']}/").json()
    assert detail["id"] == body["id"] and detail["dataset"] == dataset.slug
    listing = alice.get(f"/api/v1/scoring/runs/?dataset={dataset.slug}").json()
    assert [r["id"] for r in listing["results"]] == [body["id"]]

    aggregates = alice.get(f"/api/v1/datasets/{dataset.slug}/scores/aggregates/").json()
    assert {a["scorer"] for a in aggregates} == {"mtld", "think_tag"}
    think = next(a for a in aggregates if a["scorer"] == "think_tag")
    assert think["count"] == 12 and len(think["histogram"]) == 20 and think["is_current"] is True

    resume = alice.post(f"/api/v1/scoring/runs/{body['id']}/resume/")
    assert resume.status_code == 409 and "already succeeded" in resume.json()["error"]


@pytest.mark.django_db
def test_bad_requests_get_clear_errors(alice, user, make_dataset):
    dataset = make_dataset(owner=user, n=3)
    unknown = _start(alice, dataset.slug, [{"name": "nope"}])
    assert unknown.status_code == 400 and "unknown scorer 'nope'" in unknown.json()["error"]
    option = _start(alice, dataset.slug, [{"name": "hdd", "config": {"x": 1}}])
    assert option.status_code == 400 and "does not accept option(s) x" in option.json()["error"]
    missing = _start(alice, "no-such-dataset", ["mtld"])
    assert missing.status_code == 404
    assert APIClient().post(
        "/api/v1/scoring/runs/", {"dataset": dataset.slug, "scorers": ["mtld"]}, format="json"
    ).status_code in (401, 403)
    assert not ScoringRun.objects.exists()


@pytest.mark.django_db
def test_filtered_scores_and_pagination(alice, user, make_dataset):
    dataset = make_dataset(owner=user, n=24)  # the fixture cycles 8 responses: 2 of 8 have a think tag
    run_id = _start(alice, dataset.slug, ["think_tag", "response_tokens"]).json()["id"]
    everything = alice.get(f"/api/v1/datasets/{dataset.slug}/scores/?limit=5").json()
    assert everything["count"] == 24 and len(everything["results"]) == 5 and everything["run"] == run_id
    assert everything["next"] and "offset=5" in everything["next"]
    assert set(everything["results"][0]["scores"]) == {"think_tag", "response_tokens"}

    thinking = alice.get(f"/api/v1/datasets/{dataset.slug}/scores/", {"filter": "think_tag.raw:1:"}).json()
    assert thinking["count"] == 6
    assert [r["idx"] for r in thinking["results"]] == [2, 6, 10, 14, 18, 22]
    shorthand = alice.get(f"/api/v1/datasets/{dataset.slug}/scores/?scorer=think_tag&min=0.5").json()
    assert shorthand["count"] == 6
    both = alice.get(
        f"/api/v1/datasets/{dataset.slug}/scores/", {"filter": ["think_tag.raw:1:", "response_tokens.raw::20"]}
    ).json()
    # the pure-thinking responses (idx 6, 14, 22) have 16 tokens, the others with a think tag 25
    assert [r["idx"] for r in both["results"]] == [6, 14, 22]
    page2 = alice.get(f"/api/v1/datasets/{dataset.slug}/scores/", {"filter": "think_tag.raw:1:", "offset": 4}).json()
    assert [r["idx"] for r in page2["results"]] == [18, 22]

    bad = alice.get(f"/api/v1/datasets/{dataset.slug}/scores/", {"filter": "think_tag:abc:"})
    assert bad.status_code == 400 and "min bound 'abc' is not a number" in bad.json()["error"]
    absent = alice.get(f"/api/v1/datasets/{dataset.slug}/scores/", {"filter": "mtld:0.1:"})
    assert absent.status_code == 400 and "start a run with these scorers" in absent.json()["error"]


@pytest.mark.django_db
def test_export_creates_child_dataset_with_subset_lineage(bob, user, other_user, make_dataset):
    dataset = make_dataset(owner=user, n=16)  # public, owned by alice
    assert _start(bob, dataset.slug, ["think_tag", "python_syntax"]).json()["status"] == "succeeded"
    response = bob.post(
        f"/api/v1/datasets/{dataset.slug}/scores/export/",
        {"name": "Thinking only", "filters": ["think_tag.raw:1:"]},
        format="json",
    )
    assert response.status_code == 201, response.json()
    child = Dataset.objects.get(slug=response.json()["slug"])
    assert child.owner == other_user and child.status == "ready" and child.sample_count == 4
    assert child.visibility == "private"
    edge = LineageEdge.objects.get(child=child)
    assert edge.parent == dataset and edge.relation == "subset" and edge.origin == "declared"
    assert edge.evidence == f"filtered from {dataset.slug} where think_tag (raw) >= 1"
    assert edge.details["filters"] == ["think_tag.raw:1:"] and edge.details["selected"] == 4

    from arena.storage import read_rows

    rows = read_rows(child.samples_file, offset=0, limit=10)
    assert all("<think>" in r["response"] for r in rows)

    nothing = bob.post(
        f"/api/v1/datasets/{dataset.slug}/scores/export/",
        {"name": "Empty", "filters": [{"scorer": "python_syntax", "max": -1, "basis": "raw"}]},
        format="json",
    )
    assert nothing.status_code == 400 and "no sample" in nothing.json()["error"]
    unfiltered = bob.post(
        f"/api/v1/datasets/{dataset.slug}/scores/export/", {"name": "All", "filters": []}, format="json"
    )
    assert unfiltered.status_code == 400 and "at least one filter" in unfiltered.json()["error"]


@pytest.mark.django_db
def test_private_dataset_scores_are_invisible_to_others(alice, bob, user, make_dataset):
    dataset = make_dataset(owner=user, n=6, visibility="private")
    run_id = _start(alice, dataset.slug, ["hdd"]).json()["id"]
    assert _start(bob, dataset.slug, ["hdd"]).status_code == 404
    assert bob.get(f"/api/v1/scoring/runs/{run_id}/").status_code == 404
    assert bob.post(f"/api/v1/scoring/runs/{run_id}/resume/").status_code == 404
    assert bob.get(f"/api/v1/datasets/{dataset.slug}/scores/aggregates/").status_code == 404
    assert bob.get(f"/api/v1/datasets/{dataset.slug}/scores/").status_code == 404
    assert (
        bob.post(
            f"/api/v1/datasets/{dataset.slug}/scores/export/", {"name": "x", "filters": ["hdd:0:"]}, format="json"
        ).status_code
        == 404
    )
    assert bob.get("/api/v1/scoring/runs/").json()["results"] == []
    assert APIClient().get(f"/api/v1/scoring/runs/{run_id}/").status_code == 404
    assert alice.get(f"/api/v1/scoring/runs/{run_id}/").status_code == 200


@pytest.mark.django_db
def test_only_creator_or_owner_may_resume(alice, bob, user, make_dataset):
    dataset = make_dataset(owner=user, n=4)
    run = ScoringRun.objects.create(dataset=dataset, created_by=user, scorers=[], status="failed", rows_total=4)
    response = bob.post(f"/api/v1/scoring/runs/{run.pk}/resume/")
    assert response.status_code == 403 and "creator or the dataset's owner" in response.json()["error"]
