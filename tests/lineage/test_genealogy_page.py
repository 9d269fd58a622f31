"""The genealogy page and Dash app: served, embedded, styled by role/relation/origin, cheap layout when big."""
from __future__ import annotations

import pytest
from django.urls import reverse

from frontend.dash_apps import genealogy


@pytest.mark.django_db
def test_page_embeds_the_app(client, user, family):
    client.force_login(user)
    response = client.get(reverse("genealogy"), {"dataset": "fam-c", "depth": "3"})
    assert response.status_code == 200
    html = response.content.decode()
    assert "/django_plotly_dash/app/genealogy/" in html
    assert 'href="/lineage/"' in client.get("/datasets/").content.decode()  # nav link appears
    layout = client.get("/django_plotly_dash/app/genealogy/_dash-layout")
    assert layout.status_code == 200 and b"cytoscape" in layout.content.lower()


@pytest.mark.django_db
def test_dash_update_endpoint_uses_session_user(client, user, other_user, make_dataset):
    from tests.lineage.conftest import synthetic_samples

    make_dataset(user, "alice-only", synthetic_samples(3, seed=51), visibility="private")
    body = {
        "output": "targets.options",
        "outputs": {"id": "targets", "property": "options"},
        "inputs": [{"id": "targets", "property": "search_value", "value": "alice"}],
        "state": [{"id": "targets", "property": "value", "value": []}],
        "changedPropIds": ["targets.search_value"],
    }
    url = "/django_plotly_dash/app/genealogy/_dash-update-component"
    client.force_login(user)
    assert b"alice-only" in client.post(url, body, content_type="application/json").content
    client.force_login(other_user)
    response = client.post(url, body, content_type="application/json")
    assert response.status_code == 200 and b'"options"' in response.content
    assert b"alice-only" not in response.content


def _graph(n: int) -> dict:
    nodes = [
        {"id": f"d{i}", "name": f"D{i}", "role": "root" if i == 0 else ("target" if i == 1 else "intermediate"),
         "domains": ["math"] if i % 2 else [], "contamination": [{"benchmark": "gsm"}] if i == 2 else [],
         "inherits_contamination_from": ["d2"] if i == 3 else []}
        for i in range(n)
    ]
    edges = [
        {"id": i, "parent": f"d{i - 1}", "child": f"d{i}", "relation": "subset" if i % 2 else "mixture",
         "origin": "declared" if i % 3 else "inferred", "confidence": 1.0}
        for i in range(1, n)
    ]
    return {"nodes": nodes, "edges": edges, "depth": 2, "targets": ["d1"]}


def test_elements_carry_role_domain_relation_origin_and_contamination():
    elements, layout = genealogy.graph_elements(_graph(6))
    by_id = {e["data"]["id"]: e for e in elements}
    assert "role-root" in by_id["d0"]["classes"] and "role-target" in by_id["d1"]["classes"]
    assert "domain-math" in by_id["d1"]["classes"] and "domain-none" in by_id["d0"]["classes"]
    # contamination is a badge on the node with its details for the hover panel, not text in the label
    assert "contaminated" in by_id["d2"]["classes"] and "has-badge" in by_id["d2"]["classes"]
    assert by_id["d2"]["data"]["badge"].startswith("data:image/svg+xml") and by_id["d2"]["data"]["label"] == "D2"
    assert "gsm" in by_id["d2"]["data"]["contamination"]
    assert "inherits" in by_id["d3"]["classes"] and "inherits from d2" in by_id["d3"]["data"]["contamination"]
    assert "origin-inferred" in by_id["e3"]["classes"] and "relation-subset" in by_id["e3"]["classes"]
    # a layered layout computed on the server: each generation one column right of its parent
    assert layout["name"] == "preset"
    xs = [by_id[f"d{i}"]["position"]["x"] for i in range(6)]
    assert xs == sorted(xs) and len(set(xs)) == 6
    styles = {s["selector"]: s["style"] for s in genealogy.STYLESHEET}
    assert styles[".origin-inferred"]["line-style"] == "dashed" and styles[".origin-declared"]["line-style"] == "solid"
    assert styles["node"]["font-size"] >= 12  # legible at zoom 1


def test_thousand_nodes_use_a_cheap_layout():
    elements, layout = genealogy.graph_elements(_graph(1000))
    assert len(elements) == 1999
    assert layout["name"] == "preset" and layout["animate"] is False
    assert all("big" in e["classes"] for e in elements)
