"""OpenLineage output: every event valid against the official 2-0-2 JSON schema, every facet valid against the
schema its ``_schemaURL`` names, one input per parent, START/COMPLETE/FAIL for Arena's own runs, and emission
to an OpenLineage HTTP endpoint (a local server here) that retries and never blocks the run.

The spec files in tests/data/openlineage/ are the published schemas (see its README): no network at test time.
"""

from __future__ import annotations

import io
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from jsonschema import Draft202012Validator, FormatChecker
from referencing import Registry, Resource
from rest_framework.test import APIClient

from arena.services import dataset_register
from lineage import openlineage
from lineage.services import dataset_overlap_index, edge_declare
from tests.lineage.conftest import jsonl, synthetic_samples

SPEC_DIR = Path(__file__).resolve().parents[1] / "data" / "openlineage"
TINY_PATH = 'tiny:{"hidden_size": 32, "intermediate_size": 64, "num_hidden_layers": 1, "num_attention_heads": 2, "num_key_value_heads": 2, "max_position_embeddings": 64}'


def _registry() -> Registry:
    resources = []
    for path in SPEC_DIR.glob("*.json"):
        schema = json.loads(path.read_text())
        resources.append((schema["$id"], Resource.from_contents(schema)))
    for name in openlineage.CUSTOM_FACETS:  # Arena's own, as served at their _schemaURL
        schema = APIClient().get(f"/openlineage/facets/1-0-0/{name}.json").json()
        resources.append((schema["$id"], Resource.from_contents(schema)))
    return Registry().with_resources(resources)


def _validator(registry: Registry, url: str) -> Draft202012Validator:
    """A validator for the schema at ``url`` (``document#/json/pointer``), resolved only from ``registry``."""
    return Draft202012Validator({"$ref": url}, registry=registry, format_checker=FormatChecker())


def _facets(event: dict):
    yield from event["run"].get("facets", {}).items()
    yield from event["job"].get("facets", {}).items()
    for dataset in event.get("inputs", []) + event.get("outputs", []):
        yield from dataset.get("facets", {}).items()
        yield from dataset.get("inputFacets", {}).items()
        yield from dataset.get("outputFacets", {}).items()


def assert_valid(events: list[dict]) -> None:
    registry = _registry()
    run_event = _validator(registry, "https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent")
    for event in events:
        assert event["schemaURL"] == openlineage.RUN_EVENT_SCHEMA
        errors = [e.message for e in run_event.iter_errors(event)]
        assert not errors, (event["job"]["name"], event["eventType"], errors)
        for key, facet in _facets(event):
            url = facet["_schemaURL"]
            assert "#/$defs/" in url, (key, url)
            document = registry.get_or_retrieve(url.split("#")[0]).value.contents  # resolves: the file is known
            assert url.split("#/$defs/")[1] in document["$defs"], url
            errors = [e.message for e in _validator(registry, url).iter_errors(facet)]
            assert not errors, (event["job"]["name"], key, errors)


def _client(user=None) -> APIClient:
    client = APIClient()
    if user is not None:
        client.force_authenticate(user)
    return client


@pytest.fixture
def family_with_two_edges(user, family):
    for key in "ABCD":
        dataset_overlap_index(dataset_id=family[key].pk)
    # C is an inferred mixture of A and D; declaring C a subset of A too gives A two edges to C
    edge_declare(child=family["C"], parent=family["A"], relation="subset", evidence="hand-picked")
    return family


@pytest.mark.django_db
def test_lineage_export_is_valid_openlineage_with_one_input_per_parent(user, family_with_two_edges):
    events = _client(user).get("/api/v1/lineage/export/", {"dataset": "fam-c", "depth": 2}).json()
    assert_valid(events)
    derive = {e["job"]["name"]: e for e in events if e["job"]["name"].startswith("derive:")}
    event = derive["derive:fam-c"]
    names = [i["name"] for i in event["inputs"]]
    assert sorted(names) == ["fam-a", "fam-d"]  # one input per parent, although A has two edges to C
    edges_from_a = event["inputs"][names.index("fam-a")]["inputFacets"]["arenaLineage"]["edges"]
    assert {(e["origin"], e["relation"]) for e in edges_from_a} == {("inferred", "mixture"), ("declared", "subset")}
    assert event["job"]["facets"]["jobType"]["_schemaURL"] == (
        "https://openlineage.io/spec/facets/2-0-4/JobTypeJobFacet.json#/$defs/JobTypeJobFacet"
    )
    ingests = [e for e in events if e["job"]["name"] == "ingest:fam-c"]
    assert [e["eventType"] for e in ingests] == ["START", "COMPLETE"]
    assert ingests[0]["run"]["runId"] == ingests[1]["run"]["runId"]
    assert ingests[1]["outputs"][0]["facets"]["version"]["datasetVersion"] == family_with_two_edges["C"].content_hash
    assert events == _client(user).get("/api/v1/lineage/export/", {"dataset": "fam-c", "depth": 2}).json()


@pytest.mark.django_db
def test_arena_runs_have_start_and_end_events(user, settings, django_capture_on_commit_callbacks):
    from training.services import base_model_create, job_create

    rows = [{"id": f"v{i}", "instruction": f"count to {i}", "output": " ".join(str(n) for n in range(i))} for i in range(1, 9)]
    parent = dataset_register(owner=user, upload=io.BytesIO(jsonl(rows)), filename="counts.jsonl", name="counts",
                              ingest_now=True)
    client = _client(user)
    run = client.post("/api/v1/scoring/runs/", {"dataset": parent.slug, "scorers": ["response_tokens"]}, format="json")
    assert run.json()["status"] == "succeeded", run.json()
    with django_capture_on_commit_callbacks(execute=True):  # the subset's ingest runs once the export commits
        subset = client.post(
            f"/api/v1/datasets/{parent.slug}/scores/export/", {"name": "Long", "filters": ["response_tokens.raw:5:"]},
            format="json",
        )
    assert subset.status_code in (201, 202), subset.json()
    settings.ARENA_PREFLIGHT_RECORDS = 2  # the broken third record passes the preflight and fails the ingest
    broken = dataset_register(owner=user, upload=io.BytesIO(jsonl(synthetic_samples(2, seed=7)) + b"{not json\n"),
                              filename="broken.jsonl", name="broken", ingest_now=True, policy="strict")
    assert broken.status == "failed"
    from training.benchmark_services import benchmark_create
    from training.services import recipe_create

    items = [{"id": f"q{i}", "prompt": f"What is {i}+1?", "answer": str(i + 1)} for i in range(4)]
    benchmark = benchmark_create(name="bench", domain="math", kind="generation", metric="numeric_match",
                                 upload=io.BytesIO(jsonl(items)), filename="items.jsonl")
    recipe = recipe_create(name="r", learning_rate=3e-3, epochs=1.0, batch_size=8, max_length=48)
    job = job_create(dataset=parent, base_model=base_model_create(name="tiny", path=TINY_PATH), recipe=recipe, seed=0,
                     benchmarks=[benchmark], user=user)

    from arena.models import Dataset

    events = openlineage.arena_run_events(datasets=Dataset.objects.filter(owner=user).order_by("slug"))
    assert_valid(events)
    by_job: dict[str, list[str]] = {}
    for event in events:
        by_job.setdefault(event["job"]["name"], []).append(event["eventType"])
    assert by_job[f"ingest:{parent.slug}"] == ["START", "COMPLETE"]
    assert by_job[f"score:{parent.slug}"] == ["START", "COMPLETE"]
    child = subset.json()["slug"]
    assert by_job[f"subset-export:{child}"] == ["START", "COMPLETE"], Dataset.objects.get(slug=child).error
    subset_complete = [e for e in events if e["job"]["name"] == f"subset-export:{child}"][-1]
    assert [i["name"] for i in subset_complete["inputs"]] == [parent.slug]
    assert by_job[f"ingest:{broken.slug}"] == ["START", "FAIL"]
    fail = [e for e in events if e["job"]["name"] == f"ingest:{broken.slug}"][-1]
    assert fail["run"]["facets"]["errorMessage"]["message"] == broken.error
    assert by_job[f"train:{parent.slug}"] == ["START"]  # queued: no end yet
    assert [e for e in events if e["job"]["name"] == f"train:{parent.slug}"][0]["run"]["facets"]["arenaRun"]["objectId"] == job.pk


@pytest.mark.django_db
def test_facet_schemas_are_served_at_their_schema_url(settings):
    settings.ARENA_PUBLIC_URL = "https://arena.example.org"
    for name in openlineage.CUSTOM_FACETS:
        url = openlineage.custom_facet_url(name)
        assert url == f"https://arena.example.org/openlineage/facets/1-0-0/{name}.json#/$defs/{name}"
        response = APIClient().get(f"/openlineage/facets/1-0-0/{name}.json")
        assert response.status_code == 200 and response["Content-Type"] == "application/schema+json"
        schema = response.json()
        assert schema["$id"] == url.split("#")[0] and name in schema["$defs"]
        Draft202012Validator.check_schema(schema)
    assert APIClient().get("/openlineage/facets/1-0-0/Nope.json").status_code == 404


class _Collector(BaseHTTPRequestHandler):
    received: list[dict] = []
    failures_left = 0

    def do_POST(self):  # noqa: N802 - http.server's name
        body = self.rfile.read(int(self.headers["Content-Length"]))
        if type(self).failures_left > 0:
            type(self).failures_left -= 1
            self.send_response(503)
            self.end_headers()
            return
        type(self).received.append(json.loads(body))
        self.send_response(201)
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture
def lineage_server():
    _Collector.received, _Collector.failures_left = [], 2  # the first two POSTs fail: the sender retries
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Collector)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/api/v1/lineage"
    server.shutdown()


@pytest.mark.django_db
def test_run_events_are_emitted_as_they_happen_with_retries(user, settings, lineage_server, django_capture_on_commit_callbacks):
    from django.core.cache import cache

    cache.clear()
    settings.ARENA_OPENLINEAGE_URL = lineage_server
    settings.ARENA_OPENLINEAGE_RETRY_DELAY = 0.01
    with django_capture_on_commit_callbacks(execute=True):
        dataset = dataset_register(owner=user, upload=io.BytesIO(jsonl(synthetic_samples(5, seed=9))),
                                   filename="live.jsonl", name="live", ingest_now=True)
    assert dataset.status == "ready"
    assert openlineage.wait_sent(timeout=20)
    kinds = [(e["job"]["name"], e["eventType"]) for e in _Collector.received]
    assert (f"ingest:{dataset.slug}", "START") in kinds and (f"ingest:{dataset.slug}", "COMPLETE") in kinds
    assert len(kinds) == len(set(kinds))  # each event once, although the row was saved several times
    assert_valid(_Collector.received)
    # saved again without a transition: nothing new is sent
    with django_capture_on_commit_callbacks(execute=True):
        dataset.save()
    assert openlineage.wait_sent(timeout=20) and len(_Collector.received) == len(kinds)


@pytest.mark.django_db
def test_an_unreachable_endpoint_never_blocks_the_run(user, settings, django_capture_on_commit_callbacks):
    from django.core.cache import cache

    cache.clear()
    settings.ARENA_OPENLINEAGE_URL = "http://127.0.0.1:9/api/v1/lineage"  # discard port: connection refused
    settings.ARENA_OPENLINEAGE_RETRY_DELAY = 0.5
    settings.ARENA_OPENLINEAGE_RETRIES = 3
    import time

    started = time.monotonic()
    with django_capture_on_commit_callbacks(execute=True):
        dataset = dataset_register(owner=user, upload=io.BytesIO(jsonl(synthetic_samples(5, seed=10))),
                                   filename="dark.jsonl", name="dark", ingest_now=True)
    assert dataset.status == "ready"
    assert time.monotonic() - started < 5  # 5 retries from 0.5 s would take 7.5 s if they blocked the run
