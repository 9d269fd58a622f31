"""Fuzz the upload API with random and malformed files: a clear 4xx or a valid dataset, never a 500 or leftovers."""

from __future__ import annotations

import csv
import gzip
import io
import json
import os

import pytest
import zstandard
from django.core.cache import cache
from hypothesis import HealthCheck, given
from hypothesis import settings as hyp_settings
from hypothesis import strategies as st
from rest_framework.test import APIClient

from arena.models import Dataset

KEYS = [
    "instruction",
    "input",
    "output",
    "conversations",
    "messages",
    "from",
    "value",
    "role",
    "content",
    "system",
    "history",
    "id",
    "text",
    "prompt",
]
ROLES = ["human", "gpt", "user", "assistant", "system", "tool", "observation", "robot", "", None]
EXTENSIONS = [".jsonl", ".json", ".csv", ".parquet", ".txt", "", ".jsonl.gz", ".json.zst", ".csv.gz", ".gz", ".zst"]

scalars = st.one_of(st.none(), st.booleans(), st.integers(-5, 10**20), st.floats(allow_nan=False), st.text(max_size=30))
turn = st.fixed_dictionaries(
    {},
    optional={
        "from": st.sampled_from(ROLES),
        "role": st.sampled_from(ROLES),
        "value": st.one_of(st.text(max_size=20), scalars),
        "content": st.one_of(
            st.text(max_size=20),
            scalars,
            st.lists(st.dictionaries(st.sampled_from(["type", "text"]), scalars), max_size=2),
        ),
    },
)
field_value = st.one_of(
    scalars, st.lists(turn, max_size=4), st.lists(st.lists(st.text(max_size=8), max_size=3), max_size=2)
)
record = st.one_of(
    st.dictionaries(st.sampled_from(KEYS), field_value, max_size=6), scalars, st.lists(scalars, max_size=3)
)


def _encode(records: list, layout: str, cut: int) -> bytes:
    if layout == "jsonl":
        body = "".join(json.dumps(r) + "\n" for r in records)
    elif layout == "json":
        body = json.dumps(records)
    else:
        out = io.StringIO()
        writer = csv.writer(out)
        for r in records:
            writer.writerow(r.values() if isinstance(r, dict) else [r])
        body = ",".join(KEYS[:3]) + "\n" + out.getvalue()
    data = body.encode()
    return data[: len(data) - cut] if cut else data  # a truncated tail is a classic malformed upload


@st.composite
def uploads(draw) -> tuple[bytes, str]:
    kind = draw(st.sampled_from(["bytes", "structured", "structured", "structured", "valid"]))
    if kind == "valid":  # well-formed alpaca, so the accepting path runs under the same checks
        text = st.text(st.characters(codec="utf-8", exclude_categories=["Cs"]), min_size=1, max_size=20).filter(
            str.strip
        )
        rows = draw(
            st.lists(
                st.fixed_dictionaries({"instruction": text, "input": st.just(""), "output": text}),
                min_size=1,
                max_size=5,
            )
        )
        data = "".join(json.dumps(r) + "\n" for r in rows).encode()
        return (gzip.compress(data), "valid.jsonl.gz") if draw(st.booleans()) else (data, "valid.jsonl")
    if kind == "bytes":
        data = draw(st.binary(max_size=400))
        if draw(st.booleans()):  # random bytes behind a real magic number
            data = draw(st.sampled_from([b"\x1f\x8b", b"\x28\xb5\x2f\xfd", b"PAR1", b"[", b"{"])) + data
    else:
        layout = draw(st.sampled_from(["jsonl", "json", "csv"]))
        records = draw(st.lists(record, max_size=6))
        data = _encode(records, layout, draw(st.sampled_from([0, 0, 1, 7])))
        compression = draw(st.sampled_from(["", "", "gzip", "zstd", "gzip-cut"]))
        if compression == "gzip":
            data = gzip.compress(data)
        elif compression == "zstd":
            data = zstandard.ZstdCompressor().compress(data)
        elif compression == "gzip-cut":
            data = gzip.compress(data)[:-5]
    return data, "upload" + draw(st.sampled_from(EXTENSIONS))


form_fields = st.fixed_dictionaries(
    {"name": st.one_of(st.just("fuzzed"), st.text(max_size=12))},
    optional={
        "sample_format": st.sampled_from(["alpaca", "sharegpt", "messages", "", "yaml"]),
        "file_format": st.sampled_from(["jsonl", "json", "csv", "parquet", "", "xml"]),
        "visibility": st.sampled_from(["public", "private", "secret"]),
        "domains": st.sampled_from(["math", "code,general", "astrology"]),
        "parents": st.sampled_from(["[]", "nope", '[{"dataset": "missing"}]', "{", '{"a": 1}']),
    },
)


def _files(root) -> set[str]:
    return {os.path.join(d, f) for d, _, names in os.walk(root) for f in names}


@pytest.mark.django_db
def test_random_and_malformed_uploads_fail_cleanly(user, settings, _isolated_storage):
    settings.FILE_UPLOAD_MAX_MEMORY_SIZE = 0  # every upload goes through a temp file, which must be removed too
    settings.FILE_UPLOAD_TEMP_DIR = str(settings.ARENA_TMP_DIR)
    client = APIClient()
    client.force_authenticate(user)
    seen = {"accepted": 0, "rejected": 0}

    @hyp_settings(
        max_examples=150, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.function_scoped_fixture]
    )
    @given(upload=uploads(), fields=form_fields)
    def check(upload, fields):
        cache.clear()  # the upload throttle is not under test here
        data, filename = upload
        before_rows = Dataset.objects.count()
        before_files = _files(_isolated_storage)
        handle = io.BytesIO(data)
        handle.name = filename
        response = client.post("/api/v1/datasets/", {**fields, "file": handle}, format="multipart")
        assert response.status_code < 500, response.content
        assert os.listdir(settings.ARENA_TMP_DIR) == [], "a temp file was left behind"
        if response.status_code in (201, 202):
            seen["accepted"] += 1
            assert response.json()["status"] in ("ready", "ingesting", "uploaded")
            return
        seen["rejected"] += 1
        assert 400 <= response.status_code < 500
        body = response.json()
        assert isinstance(body.get("error"), str) and len(body["error"]) > 5, body
        if response.status_code == 422:  # registered, then failed the full ingest: kept with its reason, no files
            dataset = Dataset.objects.get(slug=body["slug"])
            assert dataset.status == "failed" and dataset.error and not dataset.raw_file and not dataset.samples_file
            dataset.delete()
        assert Dataset.objects.count() == before_rows
        assert _files(_isolated_storage) == before_files

    check()
    assert seen["rejected"] > 50 and seen["accepted"] > 0, seen  # both paths were really exercised
