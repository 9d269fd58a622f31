"""Every URL pattern and every Dash callback is classified: public by design (with the reason), the Django admin
(staff only), or probed against a private dataset of alice's (with its scores, lineage, jobs, a scoring run, a
contamination scan and an API token). An anonymous client and bob (a second, ordinary user) must get nothing private
from any probe (a refusal, or a page without alice's private data) and must change nothing of alice's; alice
herself sees her data through the same probes, so a probe that cannot reach the private object fails as well.

A URL or callback added without being classified here fails ``test_every_url_pattern_is_classified`` /
``test_every_dash_callback_is_classified``; the access rules themselves live in ``arena/permissions.py``.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass, field

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver
from django_plotly_dash.dash_wrapper import all_apps

from arena.models import ApiToken, Dataset
from lineage.models import ContaminationFinding, DatasetRelease, LineageEdge
from scoring.models import ScoringRun
from tests.frontend.showcase import _aggregate, build
from training.models import BaseModel, Job

SECRET_SLUG = "secret-mix"
SECRET_NAME = "Secret in-house mix"
SECRET_DESCRIPTION = "PRIVATE-DESCRIPTION-7f3a91"
SECRET_TOKEN_NAME = "alice-private-token-5c2e"
PUBLIC_SLUG = "openhermes-math"  # public, alice's
DENIED = {302, 400, 401, 403, 404, 405}  # 302: to the login page; 400/405: refused before any read


def _walk(patterns, prefix: str = ""):
    for p in patterns:
        if isinstance(p, URLResolver):
            yield from _walk(p.url_patterns, prefix + str(p.pattern))
        elif isinstance(p, URLPattern):
            yield prefix + str(p.pattern)


def url_patterns() -> set[str]:
    return set(_walk(get_resolver().url_patterns))


# --- the classification ---------------------------------------------------------------------------------------

PUBLIC = {  # route -> why it holds nothing private
    "api/schema/": "the OpenAPI description of the API: no data",
    "api/schema/swagger/": "API reference page: no data",
    "api/schema/redoc/": "API reference page: no data",
    "api/schema/redoc/redoc.standalone.js": "static script",
    "favicon.ico": "static icon",
    "accounts/login/": "the login form",
    "accounts/logout/": "ends the session",
    "accounts/password/": "Django's password change of the logged-in user (login required)",
    "accounts/password/done/": "a static confirmation",
    "api/v1/auth/token/": "exchanges the caller's own username and password for a token",
    "api/v1/scorers/": "the scorer catalogue: code, not data",
    "api/v1/base-models/": "base models are public by design (registering one from a job is job_can_publish_weights)",
    "api/v1/recipes/": "recipes are shared configuration",
    "api/v1/benchmarks/": "benchmarks are shared configuration",
    "api/v1/benchmark-kinds/": "the benchmark kind registry: code",
    "openlineage/facets/1-0-0/<str:name>.json": "the JSON schemas of Arena's OpenLineage facets: code, not data",
    "django_plotly_dash/add_stateless_apps": "staff-only POST (frontend/dash_routes.py) creating rows for the app list",
}
# django-plotly-dash's own routes: the app shell, its layout, dependency list, assets and component bundles hold no
# data (every layout's data-bearing component starts empty); data flows only through _dash-update-component, whose
# callbacks are classified one by one in CALLBACKS below.
DASH_SHELL = re.compile(r"^django_plotly_dash/(app|instance)/<slug:ident>/(initial/<slug:cache_id>/)?"
                        r"(_dash-(routes|layout|dependencies|component-suites/.*)|assets/<path:path>|)$")
DASH_UPDATE = re.compile(r"^django_plotly_dash/(app|instance)/<slug:ident>/(initial/<slug:cache_id>/)?_dash-update-component$")


@dataclass
class Probe:
    method: str
    url: str
    data: dict | None = None
    json_body: dict | None = None
    control: bool = True  # alice must see her private data through this probe (GET only)
    hidden: bool = False  # aimed at the private object, yet a 200 without it is right (a page that drops it)
    refuse: bool = False  # a change to one of alice's public objects: visible to all, changeable by her only


@dataclass
class Site:
    alice: object
    bob: object
    secret: Dataset
    job: Job
    run: ScoringRun
    token: ApiToken
    public_job: Job
    public_run: ScoringRun
    clients: dict = field(default_factory=dict)


def probes(site: Site) -> dict[str, list[Probe]]:
    s, job, run, token = SECRET_SLUG, site.job.pk, site.run.pk, site.token.pk
    bench = "gsm8k-mini"
    pub, pub_job, pub_run = PUBLIC_SLUG, site.public_job.pk, site.public_run.pk
    # alice's public objects: everyone may see them, only alice (or staff) may change them
    writes = {
        "scoring/runs/<int:run_id>/resume/": [Probe("post", f"/scoring/runs/{pub_run}/resume/", refuse=True)],
        "jobs/<int:job_id>/cancel/": [Probe("post", f"/jobs/{pub_job}/cancel/", refuse=True)],
        "api/v1/datasets/<slug:slug>/": [
            Probe("patch", f"/api/v1/datasets/{pub}/", json_body={"name": "taken over"}, refuse=True),
            Probe("delete", f"/api/v1/datasets/{pub}/", refuse=True)],
        "api/v1/lineage/edges/": [Probe("post", "/api/v1/lineage/edges/", refuse=True, json_body={
            "child": pub, "parent": "alpaca-gpt4", "relation": "subset"})],
        "api/v1/lineage/release/": [Probe("post", "/api/v1/lineage/release/", refuse=True, json_body={
            "dataset": pub, "released_on": "2024-01-01"})],
        "api/v1/scoring/runs/<int:run_id>/resume/": [
            Probe("post", f"/api/v1/scoring/runs/{pub_run}/resume/", refuse=True)],
        "api/v1/scoring/runs/<int:run_id>/cancel/": [
            Probe("post", f"/api/v1/scoring/runs/{pub_run}/cancel/", refuse=True)],
        "api/v1/jobs/<int:job_id>/cancel/": [Probe("post", f"/api/v1/jobs/{pub_job}/cancel/", refuse=True)],
        "api/v1/jobs/<int:job_id>/retry/": [Probe("post", f"/api/v1/jobs/{pub_job}/retry/", refuse=True)],
        "api/v1/jobs/<int:job_id>/register-base-model/": [
            Probe("post", f"/api/v1/jobs/{pub_job}/register-base-model/", json_body={"name": "bob's"}, refuse=True)],
    }
    reads = {
        # pages
        "": [Probe("get", "/")],
        "datasets/": [Probe("get", "/datasets/")],
        "datasets/<slug:slug>/": [Probe("get", f"/datasets/{s}/")],
        "datasets/upload/": [Probe("post", "/datasets/upload/", data={
            "name": "bob's child", "visibility": "public", "parents": s, "parent_relation": "subset", "policy": "repair",
            "file": SimpleUploadedFile("d.jsonl", b'{"instruction": "q", "output": "a"}\n')})],
        # the Dash app receives the preselection by cache, not in the HTML: the callbacks below are the control
        "lineage/": [Probe("get", f"/lineage/?dataset={s}", hidden=True, control=False),
                     Probe("get", "/lineage/", control=False)],
        "scoring/": [Probe("get", "/scoring/")],
        "scoring/start/": [Probe("post", "/scoring/start/", data={"dataset": s, "scorers": ["response_length"]})],
        "scoring/runs/<int:run_id>/": [Probe("get", f"/scoring/runs/{run}/")],
        "scoring/runs/<int:run_id>/resume/": [Probe("post", f"/scoring/runs/{run}/resume/")],
        "jobs/": [Probe("get", "/jobs/")],
        "jobs/launch/": [Probe("get", "/jobs/launch/"), Probe("post", "/jobs/launch/", hidden=True, data={
            "dataset": s, "base_models": ["tiny"], "seeds": "0", "benchmarks": [bench]})],  # form re-shown: 200
        "jobs/<int:job_id>/": [Probe("get", f"/jobs/{job}/")],
        "jobs/<int:job_id>/cancel/": [Probe("post", f"/jobs/{job}/cancel/")],
        "jobs/<int:job_id>/retry/": [Probe("post", f"/jobs/{job}/retry/")],
        "accounts/tokens/": [Probe("get", "/accounts/tokens/")],
        "accounts/tokens/<int:token_id>/revoke/": [Probe("post", f"/accounts/tokens/{token}/revoke/")],
        "accounts/tokens/<int:token_id>/rotate/": [Probe("post", f"/accounts/tokens/{token}/rotate/")],
        "leaderboard/": [Probe("get", "/leaderboard/", control=False)],  # a shell: the data comes by callback
        "leaderboard/compare/": [Probe("get", f"/leaderboard/compare/?datasets={s},alpaca-gpt4", control=False,
                                       hidden=True)],
        # REST: datasets
        "api/v1/auth/tokens/": [Probe("get", "/api/v1/auth/tokens/")],
        "api/v1/auth/tokens/<int:token_id>/": [Probe("delete", f"/api/v1/auth/tokens/{token}/")],
        "api/v1/auth/tokens/<int:token_id>/rotate/": [Probe("post", f"/api/v1/auth/tokens/{token}/rotate/")],
        "api/v1/datasets/": [Probe("get", "/api/v1/datasets/?limit=200"), Probe("post", "/api/v1/datasets/", data={
            "name": "bob's child", "parents": json.dumps([{"dataset": s, "relation": "subset"}]),
            "file": SimpleUploadedFile("d.jsonl", b'{"instruction": "q", "output": "a"}\n')})],
        "api/v1/datasets/preview/": [Probe("post", "/api/v1/datasets/preview/", data={
            "file": SimpleUploadedFile("d.jsonl", b'{"instruction": "q", "output": "a"}\n')}, control=False)],
        "api/v1/datasets/<slug:slug>/": [Probe("get", f"/api/v1/datasets/{s}/"),
                                         Probe("patch", f"/api/v1/datasets/{s}/", json_body={"name": "taken over"}),
                                         Probe("delete", f"/api/v1/datasets/{s}/")],
        "api/v1/datasets/<slug:slug>/rejects/": [Probe("get", f"/api/v1/datasets/{s}/rejects/", control=False)],
        "api/v1/datasets/<slug:slug>/samples/": [Probe("get", f"/api/v1/datasets/{s}/samples/", control=False)],
        "api/v1/datasets/<slug:slug>/export/": [Probe("get", f"/api/v1/datasets/{s}/export/", control=False)],
        "api/v1/datasets/<slug:slug>/export/dataset_info/": [
            Probe("get", f"/api/v1/datasets/{s}/export/dataset_info/", control=False)],
        # REST: lineage
        "api/v1/lineage/graph/": [Probe("get", f"/api/v1/lineage/graph/?dataset=openhermes-math&depth=3")],
        "api/v1/lineage/analysis/": [Probe("get", "/api/v1/lineage/analysis/?dataset=openhermes-math&depth=3")],
        "api/v1/lineage/edges/": [Probe("get", "/api/v1/lineage/edges/?limit=200"),
                                  Probe("post", "/api/v1/lineage/edges/", json_body={
                                      "child": "alpaca-gpt4", "parent": s, "relation": "subset"}),
                                  Probe("post", "/api/v1/lineage/edges/", json_body={
                                      "child": s, "parent": "alpaca-gpt4", "relation": "subset"})],
        "api/v1/lineage/edges/import/": [Probe("post", "/api/v1/lineage/edges/import/", data={
            "file": SimpleUploadedFile("e.jsonl", json.dumps({"target": s, "source": "alpaca-gpt4",
                                                             "relation": "subset"}).encode() + b"\n")})],
        "api/v1/lineage/overlap/": [Probe("get", f"/api/v1/lineage/overlap/?dataset={s}", control=False)],
        "api/v1/lineage/contamination/": [Probe("get", f"/api/v1/lineage/contamination/?dataset={s}", control=False),
                                          Probe("post", "/api/v1/lineage/contamination/", json_body={
                                              "dataset": s, "benchmarks": [bench]})],
        "api/v1/lineage/contamination/items/": [
            Probe("get", f"/api/v1/lineage/contamination/items/?dataset={s}", control=False)],
        "api/v1/lineage/release/": [Probe("post", "/api/v1/lineage/release/", json_body={
            "dataset": s, "released_on": "2024-01-01"})],
        "api/v1/lineage/export/": [Probe("get", "/api/v1/lineage/export/?dataset=openhermes-math&depth=3")],
        # REST: scoring
        "api/v1/scoring/runs/": [Probe("get", "/api/v1/scoring/runs/?limit=200"),
                                 Probe("post", "/api/v1/scoring/runs/", json_body={
                                     "dataset": s, "scorers": ["response_length"]})],
        "api/v1/scoring/runs/<int:run_id>/": [Probe("get", f"/api/v1/scoring/runs/{run}/")],
        "api/v1/scoring/runs/<int:run_id>/resume/": [Probe("post", f"/api/v1/scoring/runs/{run}/resume/")],
        "api/v1/scoring/runs/<int:run_id>/cancel/": [Probe("post", f"/api/v1/scoring/runs/{run}/cancel/")],
        "api/v1/datasets/<slug:slug>/scores/aggregates/": [
            Probe("get", f"/api/v1/datasets/{s}/scores/aggregates/", control=False)],
        "api/v1/datasets/<slug:slug>/scores/": [Probe("get", f"/api/v1/datasets/{s}/scores/", control=False)],
        "api/v1/datasets/<slug:slug>/scores/export/": [Probe("post", f"/api/v1/datasets/{s}/scores/export/", json_body={
            "name": "bob's subset", "filters": ["response_length:0.1:"]})],
        # REST: training
        "api/v1/jobs/": [Probe("get", "/api/v1/jobs/?limit=200"),
                         Probe("post", "/api/v1/jobs/", json_body={
                             "dataset": s, "base_model": "tiny", "seed": 0, "benchmarks": [bench]})],
        "api/v1/jobs/batch/": [Probe("post", "/api/v1/jobs/batch/", json_body={
            "dataset": s, "base_models": ["tiny"], "seeds": [0], "benchmarks": [bench]})],
        "api/v1/jobs/<int:job_id>/": [Probe("get", f"/api/v1/jobs/{job}/")],
        "api/v1/jobs/<int:job_id>/results/<slug:benchmark>/items/": [
            Probe("get", f"/api/v1/jobs/{job}/results/{bench}/items/", control=False)],
        "api/v1/jobs/<int:job_id>/cancel/": [Probe("post", f"/api/v1/jobs/{job}/cancel/")],
        "api/v1/jobs/<int:job_id>/retry/": [Probe("post", f"/api/v1/jobs/{job}/retry/")],
        "api/v1/jobs/<int:job_id>/weights/": [Probe("get", f"/api/v1/jobs/{job}/weights/", control=False)],
        "api/v1/jobs/<int:job_id>/register-base-model/": [
            Probe("post", f"/api/v1/jobs/{job}/register-base-model/", json_body={"name": "bob's model"})],
        # REST: leaderboard and composed endpoints
        "api/v1/leaderboard/": [Probe("get", "/api/v1/leaderboard/?base_model=smollm2-135m")],
        "api/v1/leaderboard/compare/": [Probe("get", f"/api/v1/leaderboard/compare/?datasets={s},alpaca-gpt4")],
        "api/v1/leaderboard/predictors/": [Probe("get", "/api/v1/leaderboard/predictors/?base_model=smollm2-135m",
                                                 control=False)],
    }
    return {route: reads[route] + writes.get(route, []) for route in reads}


# --- fixtures -------------------------------------------------------------------------------------------------

@pytest.fixture
def site(db) -> Site:
    world = build()
    alice, bob = world["alice"], world["bob"]
    secret = world["datasets"][SECRET_SLUG]
    Dataset.objects.filter(pk=secret.pk).update(description=SECRET_DESCRIPTION)
    secret.refresh_from_db()
    _aggregate(secret, "response_length", "length", "A", True, 0.6, 0.1)
    run = ScoringRun.objects.create(dataset=secret, created_by=alice, scorers=[{"name": "response_length", "config": {}}],
                                    status=ScoringRun.Status.FAILED, rows_total=10, chunk_rows=10)
    job = Job.objects.filter(dataset=secret).first()
    Job.objects.filter(pk=job.pk).update(created_by=alice)
    job.refresh_from_db()
    ContaminationFinding.objects.create(dataset=secret, benchmark=world["benchmarks"]["gsm8k-mini"], status="done",
                                        ngram_size=13, items_total=200, items_contaminated=3, samples_total=5000,
                                        samples_hitting=4, ratio=3 / 200)
    from arena.api_tokens import token_create

    token = token_create(user=alice, name=SECRET_TOKEN_NAME).token
    public = world["datasets"][PUBLIC_SLUG]
    assert public.owner == alice and public.is_public
    public_run = ScoringRun.objects.create(dataset=public, created_by=alice, status=ScoringRun.Status.RUNNING,
                                           scorers=[{"name": "response_length", "config": {}}], rows_total=10,
                                           chunk_rows=10)
    public_job = Job.objects.filter(dataset=public).first()
    Job.objects.filter(pk=public_job.pk).update(created_by=alice, status=Job.Status.RUNNING)
    public_job.refresh_from_db()
    return Site(alice=alice, bob=bob, secret=secret, job=job, run=run, token=token, public_job=public_job,
                public_run=public_run,
                clients={"anonymous": None, "bob": bob, "alice": alice})


def _client(site: Site, who: str) -> Client:
    """A fresh session per request: a message queued by one probe (echoing its own input) never shows in the next."""
    client = Client()
    if site.clients[who] is not None:
        client.force_login(site.clients[who])
    return client


def _markers(request_text: str) -> list[str]:
    """Evidence of alice's private data in a response; a marker the request itself carries (a slug echoed in a
    404 message) is not evidence."""
    return [m for m in (SECRET_SLUG, SECRET_NAME, SECRET_DESCRIPTION, SECRET_TOKEN_NAME) if m not in request_text]


def _send(client: Client, probe: Probe):
    if probe.json_body is not None:
        return getattr(client, probe.method)(probe.url, json.dumps(probe.json_body), content_type="application/json")
    if probe.data is not None:
        for value in probe.data.values():
            if hasattr(value, "seek"):
                value.seek(0)
        return getattr(client, probe.method)(probe.url, probe.data)
    return getattr(client, probe.method)(probe.url)


def _snapshot(site: Site) -> dict:
    secret = Dataset.objects.filter(pk=site.secret.pk).values("name", "visibility", "description").first()
    public = Dataset.objects.filter(slug=PUBLIC_SLUG).values("name", "visibility", "description").first()
    return {
        "public": public,
        "public_edges": LineageEdge.objects.filter(child__slug=PUBLIC_SLUG, superseded_at__isnull=True).count(),
        "public_release": DatasetRelease.objects.filter(dataset__slug=PUBLIC_SLUG).exists(),
        "public_job": Job.objects.filter(pk=site.public_job.pk).values_list("status", "cancel_requested").first(),
        "public_run": ScoringRun.objects.filter(pk=site.public_run.pk).values_list("status", flat=True).first(),
        "base_models": BaseModel.objects.count(),
        "secret": secret,
        "job": Job.objects.filter(pk=site.job.pk).values_list("status", flat=True).first(),
        "jobs": Job.objects.filter(dataset=site.secret).count(),
        "run": ScoringRun.objects.filter(pk=site.run.pk).values_list("status", flat=True).first(),
        "runs": ScoringRun.objects.filter(dataset=site.secret).count(),
        "edges": LineageEdge.objects.filter(child=site.secret).count() + LineageEdge.objects.filter(parent=site.secret).count(),
        "findings": ContaminationFinding.objects.filter(dataset=site.secret).count(),
        "release": DatasetRelease.objects.filter(dataset=site.secret).exists(),
        "token": ApiToken.objects.filter(pk=site.token.pk, revoked_at__isnull=True).exists(),
        "children": Dataset.objects.filter(parent_edges__parent=site.secret).count(),
    }


# --- URLs -----------------------------------------------------------------------------------------------------

def test_every_url_pattern_is_classified(site):
    routes = url_patterns()
    admin = {r for r in routes if r.startswith("admin/")}
    dash = {r for r in routes if DASH_SHELL.match(r) or DASH_UPDATE.match(r)}
    classified = set(PUBLIC) | set(probes(site))
    unclassified = sorted(routes - admin - dash - classified)
    assert not unclassified, f"classify these URL patterns in {__name__} (public with a reason, or probes): {unclassified}"
    stale = sorted(classified - routes)
    assert not stale, f"classified patterns that no longer exist: {stale}"
    assert admin and dash


def test_no_url_gives_anyone_else_alices_private_data(site):
    before = _snapshot(site)
    # requests naming one of alice's private objects must be refused outright (unless marked hidden)
    targets = (SECRET_SLUG, f"/{site.job.pk}/", f"/{site.run.pk}/", f"/{site.token.pk}/")
    failures = []
    for route, route_probes in probes(site).items():
        for probe in route_probes:
            request_text = probe.url + json.dumps(probe.json_body or {}) + repr(
                {k: v for k, v in (probe.data or {}).items() if isinstance(v, (str, list))})
            targeted = any(t in request_text for t in targets)
            for who in ("anonymous", "bob"):
                response = _send(_client(site, who), probe)
                body = b"".join(response.streaming_content) if response.streaming else response.content
                text = body.decode("utf-8", "replace")
                leaked = [m for m in _markers(request_text) if m in text]
                if response.status_code >= 500 or leaked:
                    failures.append(f"{who} {probe.method.upper()} {probe.url} -> {response.status_code} {leaked}")
                elif probe.refuse and response.status_code not in (401, 403, 302):
                    failures.append(f"{who} {probe.method.upper()} {probe.url} -> {response.status_code}, not refused")
                elif targeted and not probe.hidden and response.status_code not in DENIED:
                    failures.append(f"{who} {probe.method.upper()} {probe.url} -> {response.status_code}, not refused")
                elif response.status_code not in DENIED and response.status_code not in (200, 201, 202):
                    failures.append(f"{who} {probe.method.upper()} {probe.url} -> unexpected {response.status_code}")
                elif probe.method != "get" and response.status_code in (200, 201, 202) and who == "anonymous":
                    failures.append(f"anonymous {probe.method.upper()} {probe.url} was accepted")
    assert not failures, "\n".join(failures)
    assert _snapshot(site) == before, "an anonymous client or bob changed alice's private data"


def test_the_public_routes_hold_nothing_private(site):
    for route in PUBLIC:
        for who in ("anonymous", "bob"):
            response = _client(site, who).get("/" + route)
            text = response.content.decode("utf-8", "replace") if not response.streaming else ""
            assert response.status_code < 500 and not [m for m in _markers("") if m in text], (who, route)


def test_alice_sees_her_private_data_through_the_same_probes(site):
    """The control: each GET probe does reach the private objects (otherwise the test above proves nothing)."""
    missing = []
    for route, route_probes in probes(site).items():
        for probe in route_probes:
            if probe.method != "get" or not probe.control:
                continue
            response = _send(_client(site, "alice"), probe)
            text = response.content.decode("utf-8", "replace")
            if response.status_code != 200 or not any(m in text for m in _markers(probe.url)):
                missing.append(f"{probe.url} -> {response.status_code}")
    assert not missing, "alice does not see her own data through: " + ", ".join(missing)


def test_the_admin_is_staff_only(site):
    url = f"/admin/arena/dataset/{site.secret.pk}/change/"
    for who in ("anonymous", "bob"):
        response = _client(site, who).get(url)
        assert response.status_code == 302 and "/admin/login/" in response["Location"]
        assert SECRET_DESCRIPTION not in response.content.decode()


# --- Dash callbacks -------------------------------------------------------------------------------------------

CALLBACK_PUBLIC = {  # (app, callback) -> why it reads nothing private
    ("arena-leaderboard", "toggle_row"): "UI state only: toggles which rows the client already holds are expanded",
    ("genealogy", "show_hover"): "formats the node the client already holds (the graph it was served); no read",
}
# (app, callback) -> input values ("component.property": value) aimed at alice's private dataset
CALLBACK_PROBES = {
    ("arena-leaderboard", "init_controls"): {},
    ("arena-leaderboard", "update_board"): {"base-model.value": "smollm2-135m", "view.value": "",
                                            "tag-match.value": "any", "expanded.data": [SECRET_SLUG]},
    ("arena-compare", "init_compare"): {"initial.data": [SECRET_SLUG, "alpaca-gpt4"]},
    ("arena-compare", "update_compare"): {"datasets.value": [SECRET_SLUG, "alpaca-gpt4"],
                                          "cmp-base-model.value": "smollm2-135m"},
    ("arena-predictors", "init_predictors"): {},
    ("arena-predictors", "update_predictors"): {"pred-base-model.value": "smollm2-135m"},
    ("genealogy", "target_options"): {"targets.search_value": "Secret", "targets.value": [SECRET_SLUG]},
    ("genealogy", "update_graph"): {"targets.value": ["openhermes-math"], "depth.value": 3,
                                    "origins.value": ["declared", "inferred"], "min-confidence.value": 0},
    ("genealogy", "show_card"): {"graph.tapNodeData": {"id": SECRET_SLUG}},
}
CALLBACK_NO_CONTROL = {  # probes whose output for alice carries no marker by design
    ("arena-leaderboard", "init_controls"): "base models, tags and years only",
    ("arena-predictors", "init_predictors"): "base model choices only",
    ("arena-predictors", "update_predictors"): "correlations over datasets, no dataset named",
}


def _dash_callbacks() -> dict[tuple[str, str], dict]:
    import frontend.urls  # noqa: F401  (importing the pages registers every Dash app)

    found = {}
    for name, app in all_apps().items():
        for spec, func in app._callback_sets:
            found[(name, func.__name__)] = spec
        for spec in app._clientside_callback_sets:
            found[(name, "clientside:" + str(spec["output"]))] = spec
    return found


def _update_body(spec: dict, values: dict) -> dict:
    outputs = spec["output"]
    outputs = outputs if isinstance(outputs, (list, tuple)) else [outputs]

    def dep(d) -> dict:
        key = f"{d.component_id}.{d.component_property}"
        return {"id": d.component_id, "property": d.component_property, "value": values.get(key)}

    out = [{"id": o.component_id, "property": o.component_property} for o in outputs]
    output = ".." + "...".join(f"{o['id']}.{o['property']}" for o in out) + ".." if len(out) > 1 else \
        f"{out[0]['id']}.{out[0]['property']}"
    inputs = [dep(d) for d in spec["inputs"]]
    return {"output": output, "outputs": out if len(out) > 1 else out[0], "inputs": inputs,
            "state": [dep(d) for d in spec["state"]], "changedPropIds": [f"{inputs[0]['id']}.{inputs[0]['property']}"]}


def test_every_dash_callback_is_classified():
    callbacks = _dash_callbacks()
    clientside = {k for k in callbacks if k[1].startswith("clientside:")}  # run in the browser: no server read
    classified = set(CALLBACK_PUBLIC) | set(CALLBACK_PROBES)
    unclassified = sorted(set(callbacks) - clientside - classified)
    assert not unclassified, f"classify these Dash callbacks in {__name__}: {unclassified}"
    assert not classified - set(callbacks), f"stale: {sorted(classified - set(callbacks))}"


@pytest.mark.parametrize("key", sorted(CALLBACK_PROBES))
def test_no_dash_callback_gives_anyone_else_alices_private_data(site, key):
    app, _ = key
    spec = _dash_callbacks()[key]
    body = json.dumps(_update_body(spec, CALLBACK_PROBES[key]))
    url = f"/django_plotly_dash/app/{app}/_dash-update-component"
    responses = {who: _client(site, who).post(url, body, content_type="application/json") for who in site.clients}
    request_markers = _markers(json.dumps(CALLBACK_PROBES[key]))
    for who in ("anonymous", "bob"):
        response = responses[who]
        assert response.status_code in (200, 204), (who, response.status_code, response.content[:300])
        text = response.content.decode()
        assert not [m for m in request_markers if m in text], f"{who} got alice's private data from {key}"
    alice = responses["alice"]
    assert alice.status_code == 200, alice.content[:300]
    if key not in CALLBACK_NO_CONTROL:
        assert any(m in alice.content.decode() for m in request_markers), f"alice does not see her data via {key}"
