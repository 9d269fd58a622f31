"""The datasets REST API: upload, read, update, delete, samples, auth and visibility."""
from __future__ import annotations

import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from rest_framework.test import APIClient

from arena.models import Dataset
from tests.factories import api_token_key

pytestmark = pytest.mark.django_db

RECORDS = [{"instruction": f"Q{i}", "output": f"A{i}"} for i in range(45)]


def _jsonl(records) -> bytes:
    return "".join(json.dumps(r) + "\n" for r in records).encode()


def _client(user=None) -> APIClient:
    client = APIClient()
    if user is not None:
        client.credentials(HTTP_AUTHORIZATION=f"Token {api_token_key(user)}")
    return client


def _upload(client, *, name="Set", content=None, filename="d.jsonl", **fields):
    data = {"name": name, "file": SimpleUploadedFile(filename, content or _jsonl(RECORDS)), **fields}
    return client.post("/api/v1/datasets/", data, format="multipart")


def test_token_auth_obtains_a_token(user):
    response = APIClient().post("/api/v1/auth/token/", {"username": "alice", "password": "pw-alice-123"})
    assert response.status_code == 200 and len(response.json()["token"]) == 40


def test_upload_list_retrieve(user):
    client = _client(user)
    response = _upload(client, domains="math,code", license="MIT", visibility="public")
    assert response.status_code == 201, response.content  # eager Celery: ingested before the response; 202 when queued
    body = response.json()
    assert body["status"] == "ready"
    assert body["slug"] == "set" and body["sample_count"] == 45 and body["domains"] == ["code", "math"]

    listing = _client().get("/api/v1/datasets/").json()
    assert listing["count"] == 1 and listing["results"][0]["slug"] == "set"
    detail = _client().get("/api/v1/datasets/set/").json()
    assert detail["sample_format"] == "alpaca" and detail["owner"] == "alice"


def test_upload_with_declared_parent_via_json_field(user):
    client = _client(user)
    _upload(client, name="Parent")
    response = _upload(
        client,
        name="Child",
        content=_jsonl(RECORDS[:5]),
        parents=json.dumps([{"dataset": "parent", "relation": "subset", "evidence": "first five"}]),
    )
    assert response.status_code == 201
    assert response.json()["parents"] == [
        {"dataset": "parent", "relation": "subset", "origin": "declared", "evidence": "first five"}
    ]


def test_bad_upload_is_a_clear_400_and_records_nothing(user):
    response = _upload(_client(user), content=b'{"instruction": "x"}\n{"nope": 1}\n', policy="strict")
    assert response.status_code == 400
    assert response.json() == {
        "error": "line 1: unknown sample format: the record has keys [instruction]; expected alpaca "
        "(instruction, input, output), sharegpt (conversations of from/value) or OpenAI messages "
        "(messages of role/content); pass sample_format to force one",
        "code": "invalid",
    }
    assert Dataset.objects.count() == 0


def test_duplicate_upload_is_409(user):
    client = _client(user)
    _upload(client)
    response = _upload(client, name="Again")
    assert response.status_code == 409 and "identical file already registered as dataset 'set'" in response.json()["error"]


def test_missing_file_and_bad_choice_are_400(user):
    client = _client(user)
    response = client.post("/api/v1/datasets/", {"name": "x"}, format="multipart")
    assert response.status_code == 400 and "file" in response.json()
    response = _upload(client, sample_format="dolly")
    assert response.status_code == 400 and "sample_format" in response.json()


def test_anonymous_cannot_upload():
    assert _upload(APIClient()).status_code == 401


def test_samples_are_paginated(user):
    _upload(_client(user))
    page = _client().get("/api/v1/datasets/set/samples/?offset=40&limit=10").json()
    assert page["count"] == 45 and page["next"] is None and "offset=30" in page["previous"]
    assert [s["idx"] for s in page["results"]] == [40, 41, 42, 43, 44]
    assert page["results"][0]["messages"] == [
        {"role": "user", "content": "Q40"},
        {"role": "assistant", "content": "A40"},
    ]
    assert _client().get("/api/v1/datasets/set/samples/?limit=abc").status_code == 400


def test_private_dataset_is_invisible_to_others(user, other_user):
    slug = _upload(_client(user), visibility="private").json()["slug"]
    assert slug.startswith("set-")  # a private dataset's slug carries a random suffix: it never holds a bare name
    for client in (_client(), _client(other_user)):
        assert client.get("/api/v1/datasets/").json()["count"] == 0
        assert client.get(f"/api/v1/datasets/{slug}/").status_code == 404
        assert client.get(f"/api/v1/datasets/{slug}/samples/").status_code == 404
        assert client.patch(f"/api/v1/datasets/{slug}/", {"name": "x"}, format="json").status_code in (401, 404)
        assert client.delete(f"/api/v1/datasets/{slug}/").status_code in (401, 404)
    assert _client(user).get(f"/api/v1/datasets/{slug}/samples/").json()["count"] == 45
    assert _upload(_client(other_user), name="Set").json()["slug"] == "set"  # nothing reveals the private one


def test_only_owner_changes_public_dataset(user, other_user):
    _upload(_client(user))
    other = _client(other_user)
    assert other.patch("/api/v1/datasets/set/", {"name": "x"}, format="json").status_code == 403
    assert other.delete("/api/v1/datasets/set/").status_code == 403
    owner = _client(user)
    response = owner.patch("/api/v1/datasets/set/", {"description": "adds", "domains": ["math"]}, format="json")
    assert response.status_code == 200 and response.json()["domains"] == ["math"]
    assert owner.delete("/api/v1/datasets/set/").status_code == 204
    assert Dataset.objects.count() == 0


def test_list_filters_and_query_count(user, django_assert_max_num_queries):
    client = _client(user)
    for i in range(6):
        _upload(client, name=f"Set {i}", content=_jsonl(RECORDS[i:]), domains="math" if i % 2 else "code")
    assert client.get("/api/v1/datasets/?domain=math").json()["count"] == 3
    assert client.get("/api/v1/datasets/?search=set 5").json()["count"] == 1
    # query-count baseline: constant in the number of datasets (auth, count, page, domains, parents)
    with django_assert_max_num_queries(6):
        client.get("/api/v1/datasets/")


def test_openapi_schema_and_swagger_are_served_locally(client):
    schema = client.get("/api/schema/")
    assert schema.status_code == 200 and b"/api/v1/datasets/" in schema.content
    swagger = client.get("/api/schema/swagger/")
    assert swagger.status_code == 200
    assert b"cdn." not in swagger.content and b"jsdelivr" not in swagger.content
