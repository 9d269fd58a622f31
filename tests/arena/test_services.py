"""Registering and ingesting datasets: records, files and failure clean-up."""
from __future__ import annotations

import json
import os

import pyarrow.parquet as pq
import pytest
from django.core.files.storage import default_storage

from arena.errors import Conflict, Forbidden, InvalidInput, TooLarge
from arena.models import Dataset
from arena.services import ParentSpec, dataset_delete, dataset_register, dataset_update
from lineage.models import LineageEdge

pytestmark = pytest.mark.django_db

GOOD = [{"instruction": f"Add {i} and {i}.", "output": str(2 * i)} for i in range(30)]


def _jsonl(records) -> str:
    return "".join(json.dumps(r) + "\n" for r in records)


def _files(root) -> list[str]:
    return sorted(os.path.relpath(os.path.join(d, f), root) for d, _, fs in os.walk(root) for f in fs)


def _register(user, make_upload, content, name="data.jsonl", **kwargs):
    kwargs.setdefault("ingest_now", True)
    return dataset_register(owner=user, upload=make_upload(content, name), filename=name, name=kwargs.pop("title", "Adds"), **kwargs)


def test_register_and_ingest_writes_parquet_and_statistics(user, make_upload, _isolated_storage):
    dataset = _register(user, make_upload, _jsonl(GOOD), domains=["math"], license="MIT")
    assert dataset.status == Dataset.Status.READY
    assert dataset.sample_count == 30 and dataset.sample_format == "alpaca" and dataset.file_format == "jsonl"
    assert dataset.slug == "adds" and dataset.progress == 1.0 and dataset.ingested_at is not None
    assert [d.name for d in dataset.domains.all()] == ["math"]
    assert dataset.token_stats["response_tokens"]["total"] == 30
    assert pq.ParquetFile(default_storage.path(dataset.samples_file)).metadata.num_rows == 30
    # the raw upload is removed once normalised: only the Parquet file remains
    assert _files(_isolated_storage) == [f"datasets/{dataset.pk}/samples.parquet"]


def test_queued_ingest_runs_through_celery(user, make_upload):
    dataset = _register(user, make_upload, _jsonl(GOOD), ingest_now=False)  # eager Celery in this process
    dataset.refresh_from_db()
    assert dataset.status == Dataset.Status.READY and dataset.task_id


def test_slugs_are_unique(user, make_upload):
    first = _register(user, make_upload, _jsonl(GOOD[:5]))
    second = _register(user, make_upload, _jsonl(GOOD[5:10]))
    assert (first.slug, second.slug) == ("adds", "adds-2")


def test_preflight_failure_records_nothing(user, make_upload, _isolated_storage):
    with pytest.raises(InvalidInput, match="line 2: missing field 'output'"):
        _register(user, make_upload, _jsonl([GOOD[0], {"instruction": "x"}]), sample_format="alpaca", policy="strict")
    assert Dataset.objects.count() == 0
    assert _files(_isolated_storage) == []
    assert os.listdir(str(_isolated_storage.parent / "tmp")) == []


def test_failure_after_preflight_keeps_the_error_but_no_files(user, make_upload, settings, _isolated_storage):
    settings.ARENA_PREFLIGHT_RECORDS = 5
    records = GOOD[:20] + [{"instruction": "broken", "output": 7}]
    dataset = _register(user, make_upload, _jsonl(records), policy="strict")
    assert dataset.status == Dataset.Status.FAILED
    assert dataset.error == "line 21: field 'output' must be a string, found int"
    assert dataset.sample_count is None and dataset.samples_file == "" and dataset.raw_file == ""
    assert dataset.token_stats == {} and dataset.content_hash == ""
    assert _files(_isolated_storage) == []


def test_identical_file_is_detected_at_upload(user, make_upload):
    original = _register(user, make_upload, _jsonl(GOOD))
    with pytest.raises(Conflict, match=f"identical file already registered as dataset '{original.slug}'"):
        _register(user, make_upload, _jsonl(GOOD))
    assert Dataset.objects.count() == 1


def test_identical_content_in_another_format_is_detected_at_ingest(user, make_upload, _isolated_storage):
    original = _register(user, make_upload, _jsonl(GOOD))
    again = _register(user, make_upload, json.dumps(GOOD), name="same.json")
    assert again.status == Dataset.Status.FAILED
    assert again.error == f"identical content already registered as dataset '{original.slug}' (the same samples, in any order)"
    assert _files(_isolated_storage) == [f"datasets/{original.pk}/samples.parquet"]


def test_duplicates_of_other_users_private_data_are_not_revealed(user, other_user, make_upload):
    _register(user, make_upload, _jsonl(GOOD), visibility="private")
    theirs = _register(other_user, make_upload, _jsonl(GOOD))
    assert theirs.status == Dataset.Status.READY


def test_declared_parents_become_lineage_edges(user, make_upload):
    parent = _register(user, make_upload, _jsonl(GOOD), title="Parent")
    child = _register(
        user,
        make_upload,
        _jsonl(GOOD[:10]),
        title="Child",
        parents=[ParentSpec(dataset=parent, relation="subset", evidence="first ten")],
    )
    edge = LineageEdge.objects.get(child=child)
    assert (edge.parent, edge.relation, edge.origin, edge.evidence) == (parent, "subset", "declared", "first ten")


def test_cannot_declare_someone_elses_private_parent(user, other_user, make_upload):
    private = _register(other_user, make_upload, _jsonl(GOOD), visibility="private")
    with pytest.raises(Forbidden, match="private to another user"):
        _register(user, make_upload, _jsonl(GOOD[:3]), parents=[ParentSpec(dataset=private)])


def test_unknown_domain_and_visibility_are_refused(user, make_upload):
    with pytest.raises(InvalidInput, match="unknown domain tag\\(s\\) poetry; known tags: "):
        _register(user, make_upload, _jsonl(GOOD), domains=["poetry"])
    with pytest.raises(InvalidInput, match="unknown visibility 'secret'"):
        _register(user, make_upload, _jsonl(GOOD), visibility="secret")
    assert Dataset.objects.count() == 0


def test_size_limit_and_quota(user, make_upload, settings):
    settings.ARENA_MAX_UPLOAD_BYTES = 100
    with pytest.raises(TooLarge, match="exceeds the 100-byte size limit"):
        _register(user, make_upload, _jsonl(GOOD))
    settings.ARENA_MAX_UPLOAD_BYTES = 10**9
    settings.ARENA_USER_QUOTA_BYTES = 1200
    _register(user, make_upload, _jsonl(GOOD[:20]))
    with pytest.raises(TooLarge, match="upload quota exceeded"):
        _register(user, make_upload, _jsonl(GOOD[20:]))
    assert Dataset.objects.count() == 1


def test_update_and_delete_by_owner_only(user, other_user, make_upload, _isolated_storage):
    dataset = _register(user, make_upload, _jsonl(GOOD))
    with pytest.raises(Forbidden):
        dataset_update(dataset=dataset, user=other_user, name="stolen")
    dataset_update(dataset=dataset, user=user, name="Renamed", visibility="private", domains=["math", "code"])
    dataset.refresh_from_db()
    assert (dataset.name, dataset.visibility) == ("Renamed", "private")
    assert sorted(d.name for d in dataset.domains.all()) == ["code", "math"]
    with pytest.raises(Forbidden):
        dataset_delete(dataset=dataset, user=other_user)
    dataset_delete(dataset=dataset, user=user)
    assert Dataset.objects.count() == 0


@pytest.mark.django_db(transaction=True)
def test_delete_removes_files(user, make_upload, _isolated_storage):
    dataset = _register(user, make_upload, _jsonl(GOOD))
    assert _files(_isolated_storage)
    dataset_delete(dataset=dataset, user=user)
    assert _files(_isolated_storage) == []


def test_reingest_of_a_ready_dataset_is_a_no_op(user, make_upload):
    from arena.services import dataset_ingest

    dataset = _register(user, make_upload, _jsonl(GOOD))
    again = dataset_ingest(dataset_id=dataset.pk)
    assert again.status == Dataset.Status.READY and again.samples_file == dataset.samples_file


def test_canonical_domains_are_restored_when_missing(user, make_upload):
    from arena.models import Domain

    Domain.objects.all().delete()  # e.g. a flushed database
    dataset = _register(user, make_upload, _jsonl(GOOD), domains=["math"])
    assert [d.name for d in dataset.domains.all()] == ["math"]
    with pytest.raises(InvalidInput, match="unknown domain tag\\(s\\) poetry; known tags: chat, code, general"):
        _register(user, make_upload, _jsonl(GOOD[:4]), domains=["poetry"])
