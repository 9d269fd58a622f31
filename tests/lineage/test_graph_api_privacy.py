"""Graph, analyses, overlap and export endpoints; private datasets never leak to another user."""
from __future__ import annotations

import json

import pytest
from rest_framework.test import APIClient

from frontend.dash_apps import genealogy
from lineage.openlineage import lineage_openlineage_events
from lineage.selectors import lineage_analysis, lineage_graph
from lineage.services import dataset_overlap_index, edge_declare
from tests.lineage.conftest import synthetic_samples

TOL = 0.03


@pytest.fixture
def indexed_family(family):
    for key in "ABCD":
        dataset_overlap_index(dataset_id=family[key].pk)
    return family


@pytest.fixture
def secret(user, make_dataset, indexed_family):
    """Alice's private dataset: 50 of A's samples plus her own; declared and inferred child of A."""
    samples = synthetic_samples(100, seed=1)[:50] + synthetic_samples(50, seed=41)
    dataset = make_dataset(user, "alice-secret", samples, visibility="private")
    edge_declare(child=dataset, parent=indexed_family["A"], relation="subset", evidence="private notes")
    dataset_overlap_index(dataset_id=dataset.pk)
    return dataset


def _client(user=None) -> APIClient:
    client = APIClient()
    if user is not None:
        client.force_authenticate(user)
    return client


@pytest.mark.django_db
def test_graph_endpoint(user, indexed_family):
    body = _client(user).get("/api/v1/lineage/graph/", {"dataset": "fam-c", "depth": 2}).json()
    nodes = {n["id"]: n for n in body["nodes"]}
    assert set(nodes) == {"fam-a", "fam-c", "fam-d"}
    assert nodes["fam-c"]["role"] == "target" and nodes["fam-a"]["role"] == "root" and nodes["fam-d"]["role"] == "root"
    edges = {(e["parent"], e["child"]): e for e in body["edges"]}
    assert set(edges) == {("fam-a", "fam-c"), ("fam-d", "fam-c")}
    assert edges[("fam-a", "fam-c")]["relation"] == "mixture" and edges[("fam-a", "fam-c")]["origin"] == "inferred"
    b_edges = _client(user).get("/api/v1/lineage/graph/", {"dataset": "fam-b", "depth": 1}).json()["edges"]
    assert [(e["parent"], e["child"], e["relation"]) for e in b_edges] == [("fam-a", "fam-b", "subset")]
    depth0 = _client(user).get("/api/v1/lineage/graph/", {"dataset": ["fam-a", "fam-d"], "depth": 0}).json()
    assert {n["id"] for n in depth0["nodes"]} == {"fam-a", "fam-d"} and depth0["edges"] == []
    down = _client(user).get("/api/v1/lineage/graph/", {"dataset": "fam-a", "depth": 1}).json()
    assert {n["id"] for n in down["nodes"]} == {"fam-a", "fam-b", "fam-c"}
    assert _client(user).get("/api/v1/lineage/graph/", {"dataset": "fam-a", "depth": 99}).status_code == 400
    assert _client(user).get("/api/v1/lineage/graph/", {"depth": 1}).status_code == 400
    assert _client(user).get("/api/v1/lineage/graph/", {"dataset": "ghost"}).status_code == 404


@pytest.mark.django_db
def test_analysis(user, indexed_family):
    result = lineage_analysis(viewer=user, slugs=["fam-b", "fam-c"], depth=3)
    assert result["common_ancestors"] == ["fam-a"]
    assert result["roots"] == ["fam-a", "fam-d"]
    assert result["generation_depth"] == {"fam-a": 0, "fam-b": 1, "fam-c": 1, "fam-d": 0}
    assert result["ancestors"] == {"fam-a": 1, "fam-d": 1}  # B's parent A, C's parents A and D
    redundancy = {tuple(r["siblings"]): r for r in result["redundancy"]}
    assert redundancy[("fam-b", "fam-c")] == {
        "parent": "fam-a", "siblings": ["fam-b", "fam-c"], "shared_share": None, "measured": False
    }  # siblings sharing only their parent share no samples, and get no edge
    assert sorted(sum(result["communities"], [])) == ["fam-a", "fam-b", "fam-c", "fam-d"]
    assert _client(user).get("/api/v1/lineage/analysis/", {"dataset": "fam-c"}).status_code == 200


@pytest.mark.django_db
def test_overlap_report(user, indexed_family):
    body = _client(user).get("/api/v1/lineage/overlap/", {"dataset": "fam-c"}).json()
    assert body["index"]["status"] == "ready"
    rows = {o["dataset"]: o for o in body["overlaps"]}
    assert set(rows) == {"fam-a", "fam-d"}
    assert rows["fam-a"]["share_of_this_in_other"] == pytest.approx(0.5, abs=TOL)
    assert rows["fam-d"]["share_of_other_in_this"] == pytest.approx(40 / 120, abs=TOL)


@pytest.mark.django_db
def test_openlineage_export(user, indexed_family):
    events = _client(user).get("/api/v1/lineage/export/", {"dataset": "fam-c", "depth": 2}).json()
    by_job = {e["job"]["name"]: e for e in events if e["job"]["name"].startswith("derive:")}
    assert set(by_job) == {"derive:fam-c"}  # B is a sibling of C now, not an ancestor
    event = by_job["derive:fam-c"]
    assert event["eventType"] == "COMPLETE" and event["run"]["runId"]
    assert {i["name"] for i in event["inputs"]} == {"fam-a", "fam-d"}
    assert event["outputs"][0]["name"] == "fam-c"
    (facet,) = event["inputs"][0]["inputFacets"]["arenaLineage"]["edges"]
    assert facet["origin"] == "inferred" and facet["relation"] == "mixture"
    # the runs that made the subgraph's datasets come with it (tests/lineage/test_openlineage.py checks them)
    assert {e["job"]["name"] for e in events} >= {"ingest:fam-a", "ingest:fam-c", "ingest:fam-d"}
    assert event["outputs"][0]["facets"]["version"]["datasetVersion"] == indexed_family["C"].content_hash
    assert events == lineage_openlineage_events(viewer=user, slugs=["fam-c"], depth=2)  # deterministic


@pytest.mark.django_db
def test_private_dataset_never_reaches_another_user(user, other_user, secret):
    # The owner sees it everywhere.
    mine = lineage_graph(viewer=user, slugs=["fam-a"], depth=2)
    assert secret.slug in {n["id"] for n in mine["nodes"]}
    assert "alice-secret" in json.dumps(_client(user).get("/api/v1/lineage/overlap/", {"dataset": "fam-a"}).json())

    for client in (_client(other_user), _client()):
        for url, params in [
            ("/api/v1/lineage/graph/", {"dataset": "fam-a", "depth": 5}),
            ("/api/v1/lineage/analysis/", {"dataset": "fam-a", "depth": 5}),
            ("/api/v1/lineage/edges/", {"history": "true"}),
            ("/api/v1/lineage/edges/", {"dataset": "fam-a"}),
            ("/api/v1/lineage/overlap/", {"dataset": "fam-a"}),
            ("/api/v1/lineage/contamination/", {"dataset": "fam-a"}),
            ("/api/v1/lineage/export/", {"dataset": "fam-a", "depth": 5}),
        ]:
            response = client.get(url, params)
            assert response.status_code == 200, (url, response.content)
            assert "alice-secret" not in response.content.decode() and "private notes" not in response.content.decode(), url
        for url in ("/api/v1/lineage/graph/", "/api/v1/lineage/overlap/", "/api/v1/lineage/export/", "/api/v1/lineage/contamination/"):
            assert client.get(url, {"dataset": secret.slug}).status_code == 404

    # Dash callbacks, called directly with the user django-plotly-dash would inject.
    for viewer in (other_user, None):
        elements, _, _ = genealogy.render_graph(["fam-a"], 5, user=viewer)
        assert elements and "alice-secret" not in json.dumps(elements)
        elements, _, message = genealogy.render_graph([secret.slug], 2, user=viewer)
        assert elements == [] and "no dataset" in message
        options = genealogy.target_options("alice", [secret.slug], user=viewer)
        assert "alice-secret" not in json.dumps(options)
        assert "fam-a" in json.dumps(genealogy.target_options("fam", [], user=viewer))
        card = genealogy.show_card({"id": secret.slug}, user=viewer)
        assert "private notes" not in str(card) and "no dataset" in str(card)
        card = genealogy.show_card({"id": "fam-a"}, user=viewer)
        assert "alice-secret" not in str(card)
    elements, _, _ = genealogy.render_graph(["fam-a"], 5, user=user)
    assert "alice-secret" in json.dumps(elements)
    assert "private notes" in str(genealogy.show_card({"id": secret.slug}, user=user))


@pytest.mark.django_db
def test_edge_list_and_graph_query_counts_do_not_grow_with_edges(user, make_dataset, indexed_family):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def count(url: str, params: dict) -> int:
        client = _client(user)
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(url, params).status_code == 200
        return len(ctx.captured_queries)

    before = (count("/api/v1/lineage/edges/", {}), count("/api/v1/lineage/graph/", {"dataset": "fam-a", "depth": 1}))
    for i in range(8):
        extra = make_dataset(user, f"extra-{i}", synthetic_samples(3, seed=200 + i))
        edge_declare(child=extra, parent=indexed_family["A"], relation="distillation", evidence=f"e{i}")
    after = (count("/api/v1/lineage/edges/", {}), count("/api/v1/lineage/graph/", {"dataset": "fam-a", "depth": 1}))
    assert after == before


def _public_view(client) -> list:
    """Everything another user receives about the public family, minus nothing (ids and times included)."""
    out = []
    for url, params in [
        ("/api/v1/lineage/graph/", {"dataset": ["fam-a", "fam-d"], "depth": 5}),
        ("/api/v1/lineage/analysis/", {"dataset": ["fam-a", "fam-c"], "depth": 5}),
        ("/api/v1/lineage/edges/", {"history": "true"}),
        ("/api/v1/lineage/overlap/", {"dataset": "fam-c"}),
        ("/api/v1/lineage/contamination/", {"dataset": "fam-c"}),
        ("/api/v1/lineage/export/", {"dataset": "fam-c", "depth": 5}),
    ]:
        response = client.get(url, params)
        assert response.status_code == 200, (url, response.content)
        out.append(response.json())
    return out


@pytest.mark.django_db
def test_what_bob_receives_does_not_depend_on_alices_private_datasets(user, other_user, make_dataset, indexed_family):
    bob = _client(other_user)
    before, anonymous_before = _public_view(bob), _public_view(_client())
    a_samples, d_samples = synthetic_samples(100, seed=1), synthetic_samples(120, seed=4)
    # Alice's private datasets: one between A and B (B inside it, it inside A), one made of D's samples that C
    # also holds (a new source C could have drawn from), and a copy of a public one under a taken name.
    between = make_dataset(user, "alice-between", a_samples[:60], visibility="private")
    d_part = make_dataset(user, "alice-dpart", d_samples[:40] + synthetic_samples(5, seed=77), visibility="private")
    for dataset in (between, d_part):
        dataset_overlap_index(dataset_id=dataset.pk)
    # Alice's own view changes: B now comes from her private set
    mine = {(e["parent"], e["child"]) for e in lineage_graph(viewer=user, slugs=["fam-b"], depth=1)["edges"]}
    assert (between.slug, "fam-b") in mine and ("fam-a", "fam-b") not in mine
    # ... and Bob's and an anonymous visitor's do not, to the byte
    assert _public_view(bob) == before
    assert _public_view(_client()) == anonymous_before
    # a new public upload named like Alice's private dataset gets the bare name: nothing is revealed
    mine_too = make_dataset(other_user, "alice-between", synthetic_samples(5, seed=78))
    assert mine_too.slug == "alice-between"
