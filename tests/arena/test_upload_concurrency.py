"""Racing uploads against the real PostgreSQL: one dataset per identical file, unique slugs, never a 500."""
from __future__ import annotations

import json
import threading

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from rest_framework.test import APIClient

from arena.models import Dataset

pytestmark = pytest.mark.django_db(transaction=True)


def _jsonl(records: list[dict]) -> bytes:
    return "".join(json.dumps(r) + "\n" for r in records).encode()


def _race(user, uploads: list[tuple[str, bytes]]) -> list[tuple[int, dict]]:
    """POST every upload at once from its own thread (own DB connection); returns (status, body) per thread."""
    barrier = threading.Barrier(len(uploads))
    results: list[tuple[int, dict] | None] = [None] * len(uploads)

    def worker(slot: int, name: str, content: bytes) -> None:
        try:
            client = APIClient()
            client.force_authenticate(user)
            barrier.wait()
            response = client.post(
                "/api/v1/datasets/", {"name": name, "file": SimpleUploadedFile("d.jsonl", content)}, format="multipart"
            )
            results[slot] = (response.status_code, response.json())
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(i, name, content)) for i, (name, content) in enumerate(uploads)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)
    assert all(r is not None for r in results), "a request thread died"
    return results  # type: ignore[return-value]


def test_identical_concurrent_uploads_create_exactly_one_dataset(user):
    content = _jsonl([{"instruction": f"q{i}", "output": f"a{i}"} for i in range(40)])
    results = _race(user, [("Same", content)] * 10)
    statuses = sorted(status for status, _ in results)
    assert statuses.count(409) == 9 and len([s for s in statuses if s in (201, 202)]) == 1, results
    assert all("identical file already registered" in body["error"] for status, body in results if status == 409)
    assert Dataset.objects.count() == 1


def test_same_name_concurrent_uploads_get_unique_slugs(user):
    uploads = [("Same Name", _jsonl([{"instruction": f"q{n}-{i}", "output": "a"} for i in range(5)])) for n in range(8)]
    results = _race(user, uploads)
    assert sorted(status for status, _ in results) == [201] * 8, results
    slugs = sorted(body["slug"] for _, body in results)
    assert len(set(slugs)) == 8 and "same-name" in slugs
    assert Dataset.objects.filter(status="ready").count() == 8


def test_shuffled_copies_racing_through_ingest_keep_one(user):
    records = [{"instruction": f"q{i}", "output": f"a{i}"} for i in range(30)]
    uploads = [("Forward", _jsonl(records)), ("Backward", _jsonl(records[::-1])), ("Rotated", _jsonl(records[7:] + records[:7]))]
    results = _race(user, uploads)
    assert sorted(status for status, _ in results) == [201, 422, 422], results
    failed = [body for status, body in results if status == 422]
    assert all("identical content already registered" in body["error"] and "in any order" in body["error"] for body in failed)
    assert Dataset.objects.filter(status="ready").count() == 1
