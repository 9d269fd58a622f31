"""Server-rendered dataset pages: list, detail with preview, upload form, visibility."""
from __future__ import annotations

import json
import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from arena.models import Dataset
from arena.services import dataset_register

pytestmark = pytest.mark.django_db

RECORDS = [{"instruction": f"Question {i}", "output": f"Answer {i}"} for i in range(25)]


def _jsonl(records) -> bytes:
    return "".join(json.dumps(r) + "\n" for r in records).encode()


def _register(owner, make_upload, *, name="Pub", visibility="public", records=RECORDS):
    return dataset_register(
        owner=owner, upload=make_upload(_jsonl(records)), filename="d.jsonl", name=name, visibility=visibility, ingest_now=True
    )


def test_list_and_detail_show_metadata_and_preview(client, user, make_upload):
    dataset = _register(user, make_upload)
    listing = client.get("/datasets/")
    assert listing.status_code == 200 and b"Pub" in listing.content and b"25" in listing.content
    detail = client.get(f"/datasets/{dataset.slug}/")
    html = detail.content.decode()
    assert detail.status_code == 200
    assert "alpaca" in html and "jsonl" in html and "Question 0" in html and "Answer 9" in html
    assert "Question 10" not in html  # 10 samples a page
    assert "Question 10" in client.get(f"/datasets/{dataset.slug}/?offset=10").content.decode()


def test_private_dataset_is_hidden_from_other_users_pages(client, user, other_user, make_upload):
    dataset = _register(user, make_upload, name="Secret set", visibility="private")
    assert b"Secret set" not in client.get("/datasets/").content
    assert client.get(f"/datasets/{dataset.slug}/").status_code == 404
    client.force_login(other_user)
    assert b"Secret set" not in client.get("/datasets/").content
    assert client.get(f"/datasets/{dataset.slug}/").status_code == 404
    client.force_login(user)
    assert client.get(f"/datasets/{dataset.slug}/").status_code == 200


def test_upload_page_requires_login(client):
    response = client.get("/datasets/upload/")
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_upload_form_registers_a_dataset(client, user):
    client.force_login(user)
    form = client.get("/datasets/upload/")
    assert form.status_code == 200 and b'enctype="multipart/form-data"' in form.content
    response = client.post(
        "/datasets/upload/",
        {
            "name": "Via form",
            "visibility": "public",
            "domains": ["math"],
            "file": SimpleUploadedFile("f.jsonl", _jsonl(RECORDS)),
        },
    )
    assert response.status_code == 302
    dataset = Dataset.objects.get(name="Via form")
    assert response["Location"] == f"/datasets/{dataset.slug}/"
    assert dataset.status == "ready" and dataset.sample_count == 25


def test_upload_form_shows_the_ingest_error(client, user):
    client.force_login(user)
    response = client.post(
        "/datasets/upload/",
        {"name": "Bad", "visibility": "public", "file": SimpleUploadedFile("f.jsonl", b'{"instruction": 1, "output": "x"}\n')},
    )
    assert response.status_code == 400
    assert "line 1: field &#x27;instruction&#x27; must be a string, found int" in response.content.decode()
    assert Dataset.objects.count() == 0


def test_upload_form_enforces_csrf(user):
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    client.force_login(user)
    response = client.post("/datasets/upload/", {"name": "x", "file": SimpleUploadedFile("f.jsonl", _jsonl(RECORDS))})
    assert response.status_code == 403
    assert Dataset.objects.count() == 0


def test_pages_load_nothing_from_a_cdn(client, user, make_upload):
    dataset = _register(user, make_upload)
    for url in ("/datasets/", f"/datasets/{dataset.slug}/", "/accounts/login/"):
        html = client.get(url).content.decode()
        assert re.findall(r'<(?:script|link)[^>]+(?:src|href)="(?:https?:)?//', html) == []
