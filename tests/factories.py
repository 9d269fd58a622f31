"""Test data made through the real registry: register an upload and ingest it inline."""
from __future__ import annotations

import io
import json

from arena.models import Dataset
from arena.services import dataset_register


def jsonl_bytes(records: list[dict]) -> bytes:
    return "".join(json.dumps(record) + "\n" for record in records).encode()


def ready_dataset(*, owner, name: str, content: bytes | str, filename: str = "data.jsonl", **fields) -> Dataset:
    """A dataset registered from ``content`` and ingested inline; fails the test unless it ends ready."""
    upload = io.BytesIO(content.encode() if isinstance(content, str) else content)
    upload.name = filename
    dataset = dataset_register(owner=owner, upload=upload, filename=filename, name=name, ingest_now=True, **fields)
    assert dataset.status == Dataset.Status.READY, dataset.error
    return dataset


def api_token_key(user, name: str = "test") -> str:
    """A working REST API token key for ``user`` (``Authorization: Token <key>``)."""
    from arena.api_tokens import token_create

    return token_create(user=user, name=name).key
