"""Shared fixtures. Tests run against the real PostgreSQL named by DATABASE_URL (see scripts/test.sh)."""
from __future__ import annotations

import io

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model


def pytest_configure(config):
    engine = settings.DATABASES["default"]["ENGINE"]
    if "postgresql" not in engine:
        raise pytest.UsageError(
            "Arena's tests run against PostgreSQL: export DATABASE_URL=postgres://postgres@127.0.0.1:5432/arena "
            "(scripts/test.sh does this)"
        )


@pytest.fixture(autouse=True)
def _isolated_storage(tmp_path, settings):
    """Every test gets its own storage and temp directories."""
    storage = tmp_path / "storage"
    tmp = tmp_path / "tmp"
    storage.mkdir()
    tmp.mkdir()
    settings.ARENA_STORAGE = storage
    settings.ARENA_TMP_DIR = tmp
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {"BACKEND": "django.core.files.storage.FileSystemStorage", "OPTIONS": {"location": str(storage)}},
    }
    yield storage  # Django's setting_changed handler rebuilds default_storage


@pytest.fixture
def user(db):
    return get_user_model().objects.create_user("alice", password="pw-alice-123")


@pytest.fixture
def other_user(db):
    return get_user_model().objects.create_user("bob", password="pw-bob-123")


@pytest.fixture
def make_upload():
    """A file-like upload with a name, as the services receive it."""

    def _make(content: bytes | str, name: str = "data.jsonl"):
        data = content.encode() if isinstance(content, str) else content
        handle = io.BytesIO(data)
        handle.name = name
        return handle

    return _make
