"""Safe by default: secret key refusal, the documented production env passes `check --deploy`, login and token
throttling, API token life cycle, rate limits shared across processes, no database writes from anonymous GETs."""
from __future__ import annotations

import os
import secrets
import socket
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.test import APIClient

from arena.api_tokens import token_create
from arena.models import ApiToken

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True)
def _fresh_throttles():
    cache.clear()
    yield
    cache.clear()


def _manage(*args: str, env: dict) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "REDIS_CACHE", "ARENA_CACHE"))}
    return subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env={**clean, **env},
                          capture_output=True, text=True, timeout=120)


def _production_env() -> dict:
    env = {}
    for line in (ROOT / "docs" / "production.env").read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            key, value = line.split("=", 1)
            env[key] = value
    env["DJANGO_SECRET_KEY"] = secrets.token_urlsafe(50)
    env["DATABASE_URL"] = os.environ["DATABASE_URL"]  # check --deploy does not need the production database
    return env


@pytest.mark.parametrize("key", ["", "arena-insecure-demo-key-change-me", "change-me-in-production", "short"])
def test_refuses_to_start_without_a_real_secret_key_when_debug_is_off(key):
    result = _manage("check", env={"DJANGO_DEBUG": "false", "DJANGO_SECRET_KEY": key})
    assert result.returncode != 0
    assert "refusing to start" in result.stderr and "DJANGO_SECRET_KEY" in result.stderr


def test_documented_production_env_passes_check_deploy():
    result = _manage("check", "--deploy", "--fail-level", "WARNING", env=_production_env())
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_check_deploy_flags_a_process_local_cache():
    env = {k: v for k, v in _production_env().items() if k != "REDIS_CACHE_URL"}
    result = _manage("check", "--deploy", "--fail-level", "WARNING", env=env)
    assert result.returncode != 0 and "arena.W001" in result.stdout + result.stderr


@pytest.mark.django_db
def test_token_endpoint_and_login_page_are_throttled(user):
    api = APIClient()
    codes = [api.post("/api/v1/auth/token/", {"username": "alice", "password": f"wrong{i}"}).status_code
             for i in range(30)]
    assert codes[:10] == [400] * 10 and set(codes[10:]) == {429}
    cache.clear()
    page = Client()
    codes = [page.post("/accounts/login/", {"username": "alice", "password": f"wrong{i}"}).status_code
             for i in range(12)]
    assert codes[:10] == [200] * 10 and codes[10:] == [429, 429]  # 200 = the form again, with an error
    response = page.post("/accounts/login/", {"username": "alice", "password": "pw-alice-123"})
    assert response.status_code == 429 and "Too many login attempts" in response.content.decode()


@pytest.mark.django_db
def test_per_username_limit_holds_across_addresses(user, settings):
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": {
        **settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"], "login": "1000/minute", "login_user": "5/hour"}}
    from rest_framework.settings import api_settings
    from rest_framework.throttling import SimpleRateThrottle

    api_settings.reload()
    SimpleRateThrottle.THROTTLE_RATES = api_settings.DEFAULT_THROTTLE_RATES
    try:
        codes = [APIClient(REMOTE_ADDR=f"10.0.0.{i}").post(
            "/api/v1/auth/token/", {"username": "alice", "password": "bad"}).status_code for i in range(8)]
    finally:
        api_settings.reload()
        SimpleRateThrottle.THROTTLE_RATES = api_settings.DEFAULT_THROTTLE_RATES
    assert codes == [400] * 5 + [429] * 3


def _auth(key: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return client


@pytest.mark.django_db
def test_token_list_create_revoke_rotate_and_expiry(user, other_user):
    login = APIClient().post("/api/v1/auth/token/", {"username": "alice", "password": "pw-alice-123",
                                                     "name": "cli", "expires_in_days": 30}).json()
    key = login["token"]
    assert len(key) == 40 and login["name"] == "cli" and login["expires_at"]
    assert ApiToken.objects.get(pk=login["id"]).key_hash != key  # only a hash is stored
    api = _auth(key)
    created = api.post("/api/v1/auth/tokens/", {"name": "ci"}, format="json")
    assert created.status_code == 201 and created.json()["expires_at"] is None
    listed = api.get("/api/v1/auth/tokens/").json()
    assert {t["name"] for t in listed} == {"cli", "ci"} and all("token" not in t for t in listed)
    bad = api.post("/api/v1/auth/tokens/", {"expires_in_days": 0}, format="json")
    assert bad.status_code == 400 and "expires_in_days" in bad.json()["error"]

    rotated = api.post(f"/api/v1/auth/tokens/{created.json()['id']}/rotate/").json()
    assert rotated["name"] == "ci" and rotated["token"] != created.json()["token"]
    assert _auth(created.json()["token"]).get("/api/v1/auth/tokens/").status_code == 401  # old key is dead
    assert _auth(rotated["token"]).get("/api/v1/auth/tokens/").status_code == 200

    assert api.delete(f"/api/v1/auth/tokens/{rotated['id']}/").status_code == 204
    assert _auth(rotated["token"]).get("/api/v1/auth/tokens/").status_code == 401
    other = token_create(user=other_user, name="bob's")
    assert api.delete(f"/api/v1/auth/tokens/{other.token.pk}/").status_code == 404  # not yours

    ApiToken.objects.filter(pk=login["id"]).update(expires_at=timezone.now() - timedelta(seconds=1))
    assert api.get("/api/v1/auth/tokens/").status_code == 401  # expired


@pytest.mark.django_db
def test_password_change_revokes_every_token(user):
    keys = [token_create(user=user, name=f"t{i}").key for i in range(2)]
    assert _auth(keys[0]).get("/api/v1/auth/tokens/").status_code == 200
    page = Client()
    page.force_login(user)
    response = page.post("/accounts/password/", {"old_password": "pw-alice-123", "new_password1": "a-new-pw-4567",
                                                 "new_password2": "a-new-pw-4567"})
    assert response.status_code == 302
    assert all(_auth(key).get("/api/v1/auth/tokens/").status_code == 401 for key in keys)
    assert set(ApiToken.objects.values_list("revoked_reason", flat=True)) == {"password changed"}
    user.refresh_from_db()
    user.first_name = "Alice"
    user.save()  # other changes to the user do not revoke new tokens
    fresh = token_create(user=user, name="after").key
    user.save()
    assert _auth(fresh).get("/api/v1/auth/tokens/").status_code == 200


@pytest.mark.django_db
def test_settings_page_lists_creates_revokes_and_rotates(user):
    page = Client()
    page.force_login(user)
    response = page.post("/accounts/tokens/", {"name": "laptop", "expires_in_days": "7"})
    body = response.content.decode()
    assert response.status_code == 200 and "laptop" in body and 'id="new-token"' in body
    token = ApiToken.objects.get(user=user, name="laptop")
    response = page.post(f"/accounts/tokens/{token.pk}/rotate/")
    assert "Rotated" in response.content.decode()
    new = ApiToken.objects.get(user=user, name="laptop", revoked_at__isnull=True)
    assert new.pk != token.pk
    page.post(f"/accounts/tokens/{new.pk}/revoke/")
    assert not ApiToken.objects.filter(user=user, revoked_at__isnull=True).exists()
    assert Client().get("/accounts/tokens/").status_code == 302  # log in first


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.django_db(transaction=True)
def test_login_limit_is_shared_by_every_gunicorn_process(user):
    """Two gunicorn worker processes, one Redis cache: 10 attempts per minute in all, not 10 per process."""
    port = _free_port()
    db = connection.settings_dict
    from tests.celery_worker import redis_db as test_redis_db

    redis_db = test_redis_db()
    env = {**os.environ, "DATABASE_URL": f"postgres://{db['USER'] or 'postgres'}@{db['HOST'] or '127.0.0.1'}:"
           f"{db['PORT'] or 5432}/{db['NAME']}", "REDIS_CACHE_URL": f"redis://127.0.0.1:6379/{redis_db}",
           "ARENA_CACHE_PREFIX": f"throttle-test-{secrets.token_hex(4)}"}
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "arena.wsgi:application", "-b", f"127.0.0.1:{port}", "--workers", "2",
         "--preload", "--timeout", "300"], cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        url = f"http://127.0.0.1:{port}/api/v1/auth/token/"
        deadline = time.monotonic() + 180
        while True:
            try:
                httpx.get(f"http://127.0.0.1:{port}/accounts/login/", timeout=30)  # not counted by the throttles
                break
            except httpx.TransportError:
                assert time.monotonic() < deadline, "gunicorn did not start"
                time.sleep(0.3)
        codes = []
        for i in range(16):
            with httpx.Client() as client:  # a new connection each time, so both processes take requests
                response = client.post(url, data={"username": "alice", "password": f"bad{i}"}, timeout=30)
            codes.append(response.status_code)
        assert codes[:10] == [400] * 10 and set(codes[10:]) == {429}, codes
    finally:
        server.terminate()
        try:
            server.wait(timeout=60)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait(timeout=30)


ANONYMOUS_PAGES = [
    "/", "/datasets/", "/leaderboard/", "/leaderboard/compare/", "/lineage/", "/scoring/", "/jobs/",
    "/accounts/login/", "/api/v1/datasets/", "/api/v1/scorers/", "/api/v1/jobs/", "/api/v1/leaderboard/",
    "/api/v1/lineage/graph/", "/api/schema/",
    "/django_plotly_dash/add_stateless_apps",
    "/django_plotly_dash/app/arena-leaderboard/", "/django_plotly_dash/app/arena-leaderboard/_dash-layout",
    "/django_plotly_dash/app/arena-leaderboard/_dash-dependencies", "/django_plotly_dash/app/genealogy/",
    "/django_plotly_dash/app/arena-compare/_dash-layout",
]


@pytest.mark.django_db
def test_anonymous_gets_write_nothing_to_the_database(user):
    from django_plotly_dash.models import StatelessApp

    assert StatelessApp.objects.filter(app_name="arena-leaderboard").exists()  # registered at migrate time
    client = Client()
    writes = []
    for url in ANONYMOUS_PAGES:
        with CaptureQueriesContext(connection) as queries:
            response = client.get(url)
        assert response.status_code < 500, (url, response.status_code)
        writes += [(url, q["sql"][:120]) for q in queries.captured_queries
                   if q["sql"].lstrip().upper().startswith(("INSERT", "UPDATE", "DELETE"))]
    assert writes == []
    assert client.get("/django_plotly_dash/add_stateless_apps").status_code == 405
    assert get_user_model().objects.count() == 1
