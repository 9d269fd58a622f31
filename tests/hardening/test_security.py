"""Security limits: CSRF on session posts, size limit, quota, upload throttle, anonymous writes, admin access."""

from __future__ import annotations

import io
import json
import os

import pytest
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.test import Client
from rest_framework.test import APIClient
from rest_framework.throttling import ScopedRateThrottle

from arena.models import Dataset


def _jsonl(n: int, tag: str = "") -> bytes:
    return "".join(
        json.dumps({"instruction": f"q{tag}{i}", "input": "", "output": f"a{i}"}) + "\n" for i in range(n)
    ).encode()


def _file(data: bytes, name: str = "data.jsonl") -> io.BytesIO:
    handle = io.BytesIO(data)
    handle.name = name
    return handle


def _api(user=None) -> APIClient:
    client = APIClient()
    if user is not None:
        client.force_authenticate(user)
    return client


def _nothing_stored(storage) -> bool:
    return not Dataset.objects.exists() and not [f for _, _, files in os.walk(storage) for f in files]


@pytest.fixture(autouse=True)
def _fresh_throttle():
    cache.clear()
    yield
    cache.clear()


@pytest.mark.django_db
def test_session_posts_without_csrf_token_are_refused(user, _isolated_storage):
    browser = Client(enforce_csrf_checks=True)
    assert browser.login(username="alice", password="pw-alice-123")
    page = browser.post("/datasets/upload/", {"name": "x", "file": _file(_jsonl(3)), "visibility": "public"})
    assert page.status_code == 403
    api = browser.post("/api/v1/datasets/", {"name": "x", "file": _file(_jsonl(3))})
    assert api.status_code == 403 and "CSRF" in api.json()["error"]
    assert _nothing_stored(_isolated_storage)
    token = browser.get("/datasets/upload/").cookies["csrftoken"].value  # the real form flow still works
    ok = browser.post("/api/v1/datasets/", {"name": "x", "file": _file(_jsonl(3))}, HTTP_X_CSRFTOKEN=token)
    assert ok.status_code == 201, ok.content


@pytest.mark.django_db
def test_upload_over_the_size_limit_is_413_and_leaves_nothing(user, settings, _isolated_storage):
    settings.ARENA_MAX_UPLOAD_BYTES = 1000
    response = _api(user).post("/api/v1/datasets/", {"name": "big", "file": _file(_jsonl(100))}, format="multipart")
    assert response.status_code == 413
    assert response.json() == {
        "error": "the upload exceeds the 1,000-byte size limit (ARENA_MAX_UPLOAD_BYTES)",
        "code": "too_large",
    }
    assert _nothing_stored(_isolated_storage) and os.listdir(settings.ARENA_TMP_DIR) == []


@pytest.mark.django_db
def test_upload_over_the_user_quota_is_413(user, other_user, settings):
    first = _jsonl(20, "a")
    settings.ARENA_USER_QUOTA_BYTES = len(first) + 100
    assert (
        _api(user).post("/api/v1/datasets/", {"name": "a", "file": _file(first)}, format="multipart").status_code == 201
    )
    response = _api(user).post("/api/v1/datasets/", {"name": "b", "file": _file(_jsonl(20, "b"))}, format="multipart")
    assert response.status_code == 413
    held = Dataset.objects.get().stored_bytes  # the quota counts the bytes the datasets hold (the samples file)
    assert response.json()["error"].startswith(f"upload quota exceeded: {held:,} bytes used")
    assert "ARENA_USER_QUOTA_BYTES" in response.json()["error"]
    assert Dataset.objects.count() == 1
    other = _api(other_user).post(
        "/api/v1/datasets/", {"name": "c", "file": _file(_jsonl(20, "c"))}, format="multipart"
    )
    assert other.status_code == 201  # the quota is per user


@pytest.mark.django_db
def test_upload_rate_limit_gives_429(user, monkeypatch):
    monkeypatch.setattr(
        ScopedRateThrottle, "THROTTLE_RATES", {**ScopedRateThrottle.THROTTLE_RATES, "uploads": "2/minute"}
    )
    client = _api(user)
    codes = [
        client.post(
            "/api/v1/datasets/", {"name": f"d{i}", "file": _file(_jsonl(3, str(i)))}, format="multipart"
        ).status_code
        for i in range(2)
    ]
    assert codes == [201, 201]
    throttled = client.post("/api/v1/datasets/", {"name": "d3", "file": _file(_jsonl(3, "3"))}, format="multipart")
    assert throttled.status_code == 429
    assert throttled.json()["code"] == "throttled" and "throttled" in throttled.json()["error"].lower()
    assert "Retry-After" in throttled
    assert client.get("/api/v1/datasets/").status_code == 200  # reads are not throttled
    assert Dataset.objects.count() == 2


@pytest.mark.django_db
def test_anonymous_writes_are_refused(user, _isolated_storage):
    anonymous = APIClient()
    response = anonymous.post("/api/v1/datasets/", {"name": "x", "file": _file(_jsonl(3))}, format="multipart")
    assert response.status_code in (401, 403)
    assert "credentials were not provided" in response.json()["error"]
    assert _nothing_stored(_isolated_storage)
    page = Client().post("/datasets/upload/", {"name": "x", "file": _file(_jsonl(3))})
    assert page.status_code in (302, 403) and not Dataset.objects.exists()
    dataset_owner = _api(user)
    slug = dataset_owner.post(
        "/api/v1/datasets/", {"name": "mine", "file": _file(_jsonl(3))}, format="multipart"
    ).json()["slug"]
    assert anonymous.patch(f"/api/v1/datasets/{slug}/", {"name": "stolen"}, format="json").status_code in (401, 403)
    assert anonymous.delete(f"/api/v1/datasets/{slug}/").status_code in (401, 403)
    assert Dataset.objects.get(slug=slug).name == "mine"


@pytest.mark.django_db
def test_admin_is_reachable_for_staff_only(user):
    get_user_model().objects.create_user("root", password="pw-root-123", is_staff=True, is_superuser=True)
    staff = Client()
    assert staff.login(username="root", password="pw-root-123")
    assert staff.get("/admin/").status_code == 200
    assert staff.get("/admin/arena/dataset/").status_code == 200
    regular = Client()
    assert regular.login(username="alice", password="pw-alice-123")
    assert regular.get("/admin/").status_code == 302  # to the admin login page
    assert Client().get("/admin/arena/dataset/").status_code == 302


@pytest.mark.django_db
def test_nul_characters_in_parameters_are_a_400_not_a_500(user):
    response = _api(user).get("/api/v1/datasets/", {"search": "a\x00b"})  # found by the schemathesis run
    assert response.status_code == 400
    assert response.json() == {
        "error": "query parameter 'search' contains a NUL (0x00) character, which text values may not hold",
        "code": "invalid",
    }
