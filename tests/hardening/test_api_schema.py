"""The OpenAPI schema at /api/schema/ is valid and matches what the API answers.

* ``openapi-spec-validator`` accepts the schema; paginated lists, nullable fields, error answers and export
  types are declared as the views answer them.
* Property-based run of every operation (schemathesis, in-process WSGI) as an authenticated user (DRF token)
  against seeded data (a ready dataset, a base model, a benchmark and a base-model job with no dataset and no
  recipe), with the conformance checks on: no 5xx, every status code documented, the content type and
  headers documented, and every response body valid against its declared schema (errors included).
"""

from __future__ import annotations

import io
import json

import pytest
import schemathesis
from django.core.cache import cache
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from hypothesis import HealthCheck
from hypothesis import settings as hyp_settings
from openapi_spec_validator import validate as validate_openapi
from rest_framework.test import APIClient
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from tests.factories import api_token_key

from arena.services import dataset_register

CONFORMANCE_CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]
PAGINATED_LISTS = {
    "v1_datasets_list",
    "v1_lineage_edges_list",
    "v1_jobs_list",
    "v1_scoring_runs_list",
    "v1_base_models_list",
    "v1_benchmarks_list",
    "v1_recipes_list",
    "v1_datasets_samples_list",
    "v1_lineage_contamination_items_list",
    "v1_jobs_results_items_list",
}
TINY_PATH = 'tiny:{"hidden_size": 32, "intermediate_size": 64, "num_hidden_layers": 1, "num_attention_heads": 2, "num_key_value_heads": 2, "max_position_embeddings": 64}'


@pytest.fixture
def _connections_kept_open():
    """As Django's test client does: the WSGI app must not close the connection holding the test transaction."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


def _seed(user) -> None:
    from training.benchmark_services import benchmark_create
    from training.services import base_model_create, job_create

    rows = [{"instruction": f"q{i}", "input": "", "output": f"a{i}"} for i in range(5)]
    upload = io.BytesIO("".join(json.dumps(r) + "\n" for r in rows).encode())
    dataset_register(owner=user, upload=upload, filename="seed.jsonl", name="seed", ingest_now=True)
    items = [{"id": f"q{i}", "prompt": f"What is {i}+1?", "answer": str(i + 1)} for i in range(4)]
    benchmark = benchmark_create(
        name="seed bench", domain="math", kind="generation", metric="numeric_match",
        upload=io.BytesIO("".join(json.dumps(i) + "\n" for i in items).encode()), filename="items.jsonl",
    )
    base = base_model_create(name="seed tiny", path=TINY_PATH)
    job_create(dataset=None, base_model=base, recipe=None, seed=0, benchmarks=[benchmark], user=user)


@pytest.fixture
def token(user, _connections_kept_open) -> str:
    _seed(user)
    return api_token_key(user)


def _schema_dict() -> dict:
    response = APIClient().get("/api/schema/", {"format": "json"})
    assert response.status_code == 200
    return json.loads(response.content)


def _operations(schema: dict):
    for path, item in schema["paths"].items():
        for method, operation in item.items():
            if method in ("get", "post", "put", "patch", "delete"):
                yield path, method, operation


def _component(schema: dict, ref: str) -> dict:
    return schema["components"]["schemas"][ref.rsplit("/", 1)[-1]]


def test_schema_is_valid_openapi():
    validate_openapi(_schema_dict())  # raises on the first violation of the OpenAPI 3 specification


def test_paginated_lists_declare_the_envelope_and_its_parameters():
    schema = _schema_dict()
    found = set()
    for _path, _method, operation in _operations(schema):
        if operation["operationId"] not in PAGINATED_LISTS:
            continue
        found.add(operation["operationId"])
        body = _component(schema, operation["responses"]["200"]["content"]["application/json"]["schema"]["$ref"])
        assert set(body["required"]) >= {"count", "next", "previous", "results"}, operation["operationId"]
        assert body["properties"]["results"]["type"] == "array"
        assert body["properties"]["next"]["nullable"] and body["properties"]["previous"]["nullable"]
        assert {"limit", "offset"} <= {p["name"] for p in operation["parameters"]}, operation["operationId"]
    assert found == PAGINATED_LISTS


def test_every_operation_documents_its_errors_with_the_shared_body():
    schema = _schema_dict()
    assert sorted(_component(schema, "Error")["required"]) == ["code", "error"]
    for path, method, operation in _operations(schema):
        if path == "/api/schema/":
            continue
        codes = {code for code in operation["responses"] if code.startswith("4")}
        assert {"400", "401"} <= codes, (method, path)
        if method != "get":
            assert "403" in codes, (method, path)
        if "{" in path:
            assert "404" in codes, (method, path)
        for code in codes:
            ref = operation["responses"][code]["content"]["application/json"]["schema"]
            if operation["operationId"] != "v1_datasets_create" or code != "422":
                assert ref == {"$ref": "#/components/schemas/Error"}, (method, path, code)
    operations = {op["operationId"]: op for _p, _m, op in _operations(schema)}
    assert "429" in operations["v1_datasets_create"]["responses"]  # upload throttle
    assert "429" not in operations["v1_datasets_list"]["responses"]  # reads are not throttled
    assert "409" in operations["v1_datasets_export_retrieve"]["responses"]  # not ready yet
    assert "413" in operations["v1_datasets_create"]["responses"]


def test_nullable_fields_and_export_types():
    schema = _schema_dict()
    job = _component(schema, "JobDetail")
    assert job["properties"]["dataset"]["nullable"] and job["properties"]["recipe"]["nullable"]
    operations = {op["operationId"]: op for _p, _m, op in _operations(schema)}
    lineage = operations["v1_lineage_export_retrieve"]["responses"]["200"]["content"]["application/json"]["schema"]
    assert lineage["type"] == "array"
    info = operations["v1_datasets_export_dataset_info_retrieve"]["responses"]["200"]["content"]["application/json"]
    assert info["schema"]["additionalProperties"]["required"] == ["file_name", "formatting", "columns"]
    assert "application/x-ndjson" in operations["v1_datasets_export_retrieve"]["responses"]["200"]["content"]
    source_url = _component(schema, "DatasetCreateRequest")["properties"]["source_url"]
    assert source_url["default"] == "" and source_url["oneOf"][0]["minLength"] == 1  # "" matches one branch only


@pytest.mark.django_db
def test_errors_are_json_even_where_the_answer_would_be_csv():
    response = APIClient().get("/api/v1/leaderboard/", {"format": "csv"})  # no base_model
    assert response.status_code == 400 and response["Content-Type"] == "application/json"
    assert response.json()["code"] == "invalid" and "base_model" in response.json()["error"]


def _load_schema():
    from arena.wsgi import application

    return schemathesis.openapi.from_wsgi("/api/schema/", application)  # generating the schema needs no database


schema = _load_schema()


@pytest.mark.django_db
@schema.parametrize()
@hyp_settings(max_examples=4, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
def test_every_operation_answers_as_documented(case, token):
    cache.clear()  # keep the upload throttle from turning every later case into a 429
    # identity: the WSGI transport does not inflate GZipMiddleware's bodies (gzip itself: tests/leaderboard)
    case.call_and_validate(
        headers={"Authorization": f"Token {token}", "Accept-Encoding": "identity"}, checks=CONFORMANCE_CHECKS
    )
