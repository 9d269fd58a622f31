"""Query-count baselines (NetBox style): the leaderboard API and the dataset page do not issue more queries for
more datasets, and the dataset page does not rebuild a board's viewer facts per base model."""
from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from arena.models import Dataset


@pytest.fixture
def api():
    return APIClient()


def _queries(fn) -> int:
    with CaptureQueriesContext(connection) as captured:
        fn()
    return len(captured.captured_queries)


def _more_base_models(board, n: int) -> None:
    alpha, beta = Dataset.objects.get(slug="alpha"), Dataset.objects.get(slug="beta")
    for i in range(n):
        slug = f"extra-base-{i}"
        board.results(None, {"g1": [0.4], "g2": [0.5], "m1": [0.2]}, base_model=slug)
        board.results(alpha, {"g1": [0.5, 0.6], "g2": [0.7, 0.7], "m1": [0.3, 0.4]}, base_model=slug)
        board.results(beta, {"g1": [0.4, 0.4], "g2": [0.5, 0.5], "m1": [0.2, 0.2]}, base_model=slug)


def test_dataset_page_reads_the_viewer_facts_once_for_every_base_model(small_board, client, other_user):
    client.force_login(other_user)
    page = lambda: client.get("/datasets/alpha/")  # noqa: E731
    assert page().status_code == 200  # cold: boards computed and cached
    one = _queries(page)
    _more_base_models(small_board, 3)
    assert page().status_code == 200
    four = _queries(page)
    html = client.get("/datasets/alpha/").content.decode()
    assert html.count("1 of 2") == 4  # a standing per base model, ranked among what bob sees
    # per extra base model: its board's stamp only (the cached board is reused; no per-board dataset reads)
    assert four - one <= 3, (one, four)


def test_leaderboard_api_queries_do_not_grow_with_datasets_or_base_models(small_board, api, other_user):
    api.force_authenticate(other_user)
    get = lambda: api.get("/api/v1/leaderboard/", {"base_model": "tiny"})  # noqa: E731
    assert get().status_code == 200
    warm = _queries(get)
    assert warm <= 6, warm  # base model, stamp, visible datasets, tags (+ session/auth)
    _more_base_models(small_board, 2)
    for i in range(5):
        ds = small_board.dataset(f"extra-{i}", owner=other_user, tags=("code",))
        small_board.results(ds, {"g1": [0.3, 0.35], "g2": [0.5, 0.4], "m1": [0.1, 0.2]})
    assert get().status_code == 200
    assert _queries(get) == warm


def test_a_page_of_the_leaderboard_api(small_board, api, other_user):
    api.force_authenticate(other_user)
    full = api.get("/api/v1/leaderboard/", {"base_model": "tiny"}).json()
    assert "matched" not in full and len(full["rows"]) == 2
    page = api.get("/api/v1/leaderboard/", {"base_model": "tiny", "offset": 1, "limit": 1}).json()
    assert page["rows"] == full["rows"][1:] and page["matched"] == 2 and page["offset"] == 1 and page["limit"] == 1
    assert page["rows"][0]["rank"] == full["rows"][1]["rank"]  # ranks are the board's, not the page's
    for bad in ({"limit": 0}, {"limit": 100_000}, {"offset": -1}, {"limit": "ten"}):
        resp = api.get("/api/v1/leaderboard/", {"base_model": "tiny", **bad})
        assert resp.status_code == 400, (bad, resp.content)


def test_large_responses_are_gzipped(small_board, client):
    resp = client.get("/api/v1/leaderboard/", {"base_model": "tiny"}, HTTP_ACCEPT_ENCODING="gzip")
    assert resp.status_code == 200 and resp["Content-Encoding"] == "gzip"
