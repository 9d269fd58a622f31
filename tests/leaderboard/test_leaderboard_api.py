"""REST: JSON and CSV, visibility, query-count baselines, same numbers as the selector."""
from __future__ import annotations

import csv
import io

import pytest
from rest_framework.test import APIClient

from training.leaderboard import selectors


@pytest.fixture
def api():
    return APIClient()


def test_leaderboard_json_is_the_selector_output(small_board, api, other_user):
    api.force_authenticate(other_user)
    resp = api.get("/api/v1/leaderboard/", {"base_model": "tiny"})
    assert resp.status_code == 200, resp.content
    body = resp.json()
    lb = selectors.leaderboard_get(viewer=other_user, base_model="tiny")
    assert body["rows"] == lb.rows
    assert body["reference"]["score"] == pytest.approx(0.325)
    assert "secret" not in resp.content.decode()


def test_private_dataset_never_in_api_for_others(small_board, api, user, other_user):
    assert "secret" not in api.get("/api/v1/leaderboard/", {"base_model": "tiny"}).content.decode()  # anonymous
    api.force_authenticate(other_user)
    for params in ({"base_model": "tiny"}, {"base_model": "tiny", "domain": "math"},
                   {"base_model": "tiny", "format": "csv"}):
        assert "secret" not in api.get("/api/v1/leaderboard/", params).content.decode().lower()
    assert api.get("/api/v1/leaderboard/compare/", {"datasets": "alpha,secret"}).status_code == 404
    api.force_authenticate(user)
    assert "secret" in api.get("/api/v1/leaderboard/", {"base_model": "tiny"}).content.decode()
    assert api.get("/api/v1/leaderboard/compare/", {"datasets": "alpha,secret"}).status_code == 200


def test_leaderboard_csv(small_board, api):
    resp = api.get("/api/v1/leaderboard/", {"base_model": "tiny", "domain": "general", "format": "csv"})
    assert resp.status_code == 200
    assert resp["Content-Type"].startswith("text/csv")
    assert "leaderboard-tiny-general.csv" in resp["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(resp.content.decode())))
    assert [r["dataset"] for r in rows] == ["", "alpha", "beta"]  # the reference first
    assert rows[0]["is_reference"] == "True"
    assert float(rows[1]["score"]) == pytest.approx(0.625)
    assert float(rows[1]["benchmark:g2"]) == pytest.approx(0.70)


def test_errors_are_clear(small_board, api):
    resp = api.get("/api/v1/leaderboard/")
    assert resp.status_code == 400 and "base_model is required" in resp.json()["error"]
    assert api.get("/api/v1/leaderboard/", {"base_model": "nope"}).status_code == 404
    assert api.get("/api/v1/leaderboard/", {"base_model": "tiny", "domain": "poetry"}).status_code == 400
    assert api.get("/api/v1/leaderboard/", {"base_model": "tiny", "size_min": "x"}).status_code == 400
    assert api.get("/api/v1/leaderboard/compare/", {"datasets": "alpha"}).status_code == 400


def test_compare_endpoint(small_board, api, other_user):
    api.force_authenticate(other_user)
    body = api.get("/api/v1/leaderboard/compare/", {"datasets": "alpha,beta"}).json()
    assert body["base_models"][0]["p_better"]["alpha"]["beta"] == 1.0
    assert body["base_models"][0]["rows"] == selectors.leaderboard_get(viewer=other_user, base_model="tiny").rows


def test_query_count_baselines(small_board, api, other_user, django_assert_max_num_queries):
    api.force_authenticate(other_user)
    # cold: stamp, base model, aggregated results, benchmarks, visible datasets, tags (+ auth)
    with django_assert_max_num_queries(8):
        assert api.get("/api/v1/leaderboard/", {"base_model": "tiny"}).status_code == 200
    # warm cache: the aggregation is skipped
    with django_assert_max_num_queries(6):
        assert api.get("/api/v1/leaderboard/", {"base_model": "tiny"}).status_code == 200
    # more datasets do not mean more queries
    for i in range(5):
        ds = small_board.dataset(f"extra-{i}", owner=other_user, tags=("code",))
        small_board.results(ds, {"g1": [0.3, 0.35], "g2": [0.5, 0.4], "m1": [0.1, 0.2]})
    with django_assert_max_num_queries(8):
        resp = api.get("/api/v1/leaderboard/", {"base_model": "tiny"})
    assert len(resp.json()["rows"]) == 7
