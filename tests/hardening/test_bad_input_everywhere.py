"""No user input gives a 500: malformed query strings and bodies thrown at every page URL, every API URL and
the Dash callback endpoints (URL patterns enumerated from the resolver, not listed by hand)."""
from __future__ import annotations

import json
import re
from urllib.parse import quote

import pytest
from django.test import Client
from django.urls import URLResolver, get_resolver
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import frontend.dash_apps.compare  # noqa: F401 - registers the Dash apps
import frontend.dash_apps.genealogy  # noqa: F401
import frontend.dash_apps.leaderboard  # noqa: F401
from django_plotly_dash.dash_wrapper import get_local_stateless_list
from tests.factories import ready_dataset

FUZZ = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
_PARAM = re.compile(r"<(?:(\w+):)?(\w+)>")


def _patterns(resolver=None, prefix: str = "") -> list[str]:
    found = []
    for pattern in (resolver or get_resolver()).url_patterns:
        if isinstance(pattern, URLResolver):
            found += _patterns(pattern, prefix + str(pattern.pattern))
        else:
            found.append(prefix + str(pattern.pattern))
    return found


def _concrete(pattern: str, *, slug: str, dash_app: str) -> str:
    def fill(match: re.Match) -> str:
        converter, name = match.group(1) or "str", match.group(2)
        if name == "ident":
            return dash_app
        if converter == "int":
            return "1"
        if name == "slug":
            return slug
        return "x"

    return "/" + _PARAM.sub(fill, pattern.lstrip("^").rstrip("$"))


def _urls(slug: str) -> list[str]:
    apps = sorted(get_local_stateless_list())
    urls = set()
    for pattern in _patterns():
        if pattern.startswith("admin/") or "(?P" in pattern:
            continue
        for app in apps if "<slug:ident>" in pattern else [apps[0]]:
            urls.add(_concrete(pattern, slug=slug, dash_app=app))
    return sorted(urls)


@pytest.fixture
def site(db, user):
    dataset = ready_dataset(owner=user, name="Fuzz target", content=json.dumps({"instruction": "q", "output": "a"}) + "\n")
    urls = _urls(dataset.slug)
    assert any(u.endswith("/_dash-update-component") for u in urls) and "/datasets/" in urls and "/jobs/" in urls
    logged_in = Client()
    logged_in.force_login(user)
    return {"urls": urls, "clients": [Client(), logged_in]}


NASTY = st.sampled_from(["\x00", "%00", "\ud800", "%ED%A0%80", "%FF%FE", "'", '"', "<script>", "../../etc/passwd", "9" * 40,
                         "-1", "1e309", "[" * 200, "", " ", "%", "%2", "\\u0000", "null"])
TEXT = st.text(max_size=40) | NASTY


def _query(pairs: list[tuple[str, str]]) -> str:
    parts = []
    for key, value in pairs:
        # NASTY items that look percent-encoded go in raw (invalid UTF-8 bytes); the rest are quoted.
        encode = lambda t: t if re.fullmatch(r"(%[0-9A-F]{2})+", t) else quote(t.encode("utf-8", "surrogatepass"), safe="")  # noqa: E731
        parts.append(f"{encode(key)}={encode(value)}")
    return "&".join(parts)


def _assert_no_500(response, what: str) -> None:
    assert response.status_code < 500, f"{what} -> {response.status_code}: {response.content[:300]!r}"


@FUZZ
@given(data=st.data())
def test_every_url_survives_malformed_query_strings(site, data):
    url = data.draw(st.sampled_from(site["urls"]), label="url")
    keys = st.sampled_from(["q", "dataset", "offset", "page", "domain", "format", "filter", "limit", "status", "base_model", "sort"]) | TEXT
    query = _query(data.draw(st.lists(st.tuples(keys, TEXT), max_size=4), label="query"))
    client = data.draw(st.sampled_from(site["clients"]), label="client")
    _assert_no_500(client.get(f"{url}?{query}"), f"GET {url}?{query}")


@FUZZ
@given(data=st.data())
def test_every_url_survives_malformed_bodies(site, data):
    url = data.draw(st.sampled_from(site["urls"]), label="url")
    client = data.draw(st.sampled_from(site["clients"]), label="client")
    kind = data.draw(st.sampled_from(["json", "deep", "form", "bytes"]), label="kind")
    if kind == "json":
        value = data.draw(st.recursive(st.none() | st.booleans() | st.integers() | TEXT, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(TEXT, inner, max_size=3), max_leaves=8))
        body, content_type = json.dumps(value), "application/json"
    elif kind == "deep":
        body, content_type = "[" * 100_000 + "]" * 100_000, "application/json"
    elif kind == "form":
        body, content_type = _query(data.draw(st.lists(st.tuples(TEXT, TEXT), max_size=4))), "application/x-www-form-urlencoded"
    else:
        body, content_type = data.draw(st.binary(max_size=200)), "application/octet-stream"
    method = data.draw(st.sampled_from(["post", "put", "patch"]), label="method")
    _assert_no_500(getattr(client, method)(url, data=body, content_type=content_type), f"{method.upper()} {url} ({kind})")


def _dash_callbacks(client: Client, app: str) -> list[dict]:
    response = client.get(f"/django_plotly_dash/app/{app}/_dash-dependencies")
    assert response.status_code == 200
    return json.loads(response.content)


def _outputs(output: str):
    def one(spec: str) -> dict:
        component, prop = spec.rsplit(".", 1)
        return {"id": component, "property": prop}

    if output.startswith(".."):
        return [one(spec) for spec in output.strip(".").split("...")]
    return one(output)


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | TEXT,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(TEXT, inner, max_size=3),
    max_leaves=6,
)


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(data=st.data())
def test_dash_callbacks_survive_malformed_values(site, data):
    """Well-formed Dash requests to every callback of every app, with arbitrary values in every input."""
    client = site["clients"][1]
    app = data.draw(st.sampled_from(sorted(get_local_stateless_list())), label="app")
    callbacks = _dash_callbacks(client, app)
    callback = data.draw(st.sampled_from(callbacks), label="callback")
    body = {
        "output": callback["output"],
        "outputs": _outputs(callback["output"]),
        "inputs": [{**dep, "value": data.draw(JSON_VALUES)} for dep in callback["inputs"]],
        "state": [{**dep, "value": data.draw(JSON_VALUES)} for dep in callback.get("state", [])],
        "changedPropIds": [f"{dep['id']}.{dep['property']}" for dep in callback["inputs"][:1]],
    }
    response = client.post(f"/django_plotly_dash/app/{app}/_dash-update-component", json.dumps(body), content_type="application/json")
    _assert_no_500(response, f"{app} {callback['output']} with {body['inputs']}")


@pytest.mark.parametrize(
    "url",
    ["/datasets/?q=%00", "/jobs/?dataset=%00", "/lineage/?dataset=%00", "/datasets/?q=%ED%A0%80", "/api/v1/datasets/?search=%00",
     "/leaderboard/?base_model=%00", "/scoring/?dataset=%00"],
)
def test_reported_nul_query_strings_are_a_400(site, url):
    response = site["clients"][0].get(url)
    assert response.status_code in (200, 400), response.status_code
    if "%00" in url:
        assert response.status_code == 400 and b"NUL" in response.content


def test_deep_and_surrogate_json_to_the_api_is_a_400(site, user):
    client = site["clients"][1]
    slug = next(u for u in site["urls"] if u.startswith("/api/v1/datasets/") and u.count("/") == 5).split("/")[4]
    deep = client.patch(f"/api/v1/datasets/{slug}/", "[" * 100_000 + "]" * 100_000, content_type="application/json")
    assert deep.status_code == 400 and "nested too deeply" in deep.json()["error"]
    surrogate = client.patch(f"/api/v1/datasets/{slug}/", '{"name": "bad \\ud800 name"}', content_type="application/json")
    assert surrogate.status_code == 400 and "surrogate" in surrogate.json()["error"].lower()
    nul = client.patch(f"/api/v1/datasets/{slug}/", '{"description": "a\\u0000b"}', content_type="application/json")
    assert nul.status_code == 400 and "nul" in nul.json()["error"].lower()


def test_malformed_dash_bodies_are_a_400(site):
    client = site["clients"][0]
    url = f"/django_plotly_dash/app/{sorted(get_local_stateless_list())[0]}/_dash-update-component"
    for body in (b"not json", b"\xff\xfe", b"[]", b'{"output": 1}', b"[" * 50_000, json.dumps({"output": "a.b", "inputs": "x"}).encode()):
        response = client.post(url, body, content_type="application/json")
        assert response.status_code == 400 and "Dash callback" in response.json()["error"], body[:40]
    assert client.post("/django_plotly_dash/app/no-such-app/_dash-update-component", b'{"output": "a.b", "inputs": []}',
                       content_type="application/json").status_code in (400, 404)


def test_nul_in_multipart_form_fields_is_a_400(site):
    from django.core.files.uploadedfile import SimpleUploadedFile

    client = site["clients"][1]
    content = b'{"instruction": "q9", "output": "a9"}\n'
    page = client.post("/datasets/upload/", {"name": "a\x00b", "file": SimpleUploadedFile("d.jsonl", content)})
    assert page.status_code == 400
    api = client.post("/api/v1/datasets/", {"name": "a\x00b", "file": SimpleUploadedFile("d.jsonl", content)})
    assert api.status_code == 400 and "null" in api.json()["error"].lower()
