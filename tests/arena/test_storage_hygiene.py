"""Storage hygiene: the quota counts bytes held, no empty directories, and deleting a dataset removes
everything derived from it (samples, upload, rejects, scores, signatures, job checkpoints) in one place."""
from __future__ import annotations

import io
import json
import os
from pathlib import Path

import pytest
from django.core.files.storage import default_storage
from rest_framework.test import APIClient

from arena.errors import TooLarge
from arena.models import Dataset
from arena.services import dataset_register
from arena.storage import dataset_storage_paths
from tests.factories import ready_dataset

MESSY = Path(__file__).resolve().parent.parent / "data" / "messy_sharegpt.jsonl"


def _tree(root: Path) -> list[str]:
    """Every file and directory under storage, relative, directories with a trailing slash."""
    entries = []
    for directory, dirs, files in os.walk(root):
        rel = os.path.relpath(directory, root)
        entries += [os.path.join(rel, d).removeprefix("./") + "/" for d in dirs]
        entries += [os.path.join(rel, f).removeprefix("./") for f in files]
    return sorted(entries)


def _upload(content: bytes, name: str = "d.jsonl"):
    handle = io.BytesIO(content)
    handle.name = name
    return handle


def _jsonl(n: int, tag: str) -> bytes:
    return "".join(json.dumps({"instruction": f"{tag} q{i}", "output": f"<think>t</think>a{i}" if i % 2 else f"a{i}"}) + "\n"
                   for i in range(n)).encode()


@pytest.mark.django_db
def test_deleting_a_dataset_removes_everything_derived_from_it(user, _isolated_storage, django_capture_on_commit_callbacks):
    from lineage.services import dataset_overlap_index
    from training.models import BaseModel, Job
    from training.job_runner import job_checkpoint_root

    doomed = ready_dataset(owner=user, name="Doomed", content=MESSY.read_bytes(), filename=MESSY.name)
    kept = ready_dataset(owner=user, name="Kept", content=_jsonl(20, "kept"))
    api = APIClient()
    api.force_authenticate(user)
    for dataset in (doomed, kept):
        run = api.post("/api/v1/scoring/runs/", {"dataset": dataset.slug, "scorers": ["think_tag"]}, format="json")
        assert run.json()["status"] == "succeeded", run.json()
        dataset_overlap_index(dataset_id=dataset.pk)
    base = BaseModel.objects.create(name="tiny-hygiene", slug="tiny-hygiene", path='tiny:{"n_layer": 2}')
    job = Job.objects.create(dataset=doomed, base_model=base, created_by=user)
    checkpoint = job_checkpoint_root(job) / "checkpoint-10"
    checkpoint.mkdir(parents=True)
    (checkpoint / "adapter_model.safetensors").write_bytes(b"weights")

    before = _tree(_isolated_storage)
    d = doomed.pk
    owned = [e for e in before if e.startswith((f"datasets/{d}/", f"scores/{d}/", f"jobs/{job.pk}/"))
             or e in (f"datasets/{d}/", f"scores/{d}/", f"jobs/{job.pk}/")]
    assert f"datasets/{d}/samples.parquet" in owned and f"datasets/{d}/rejects.jsonl.gz" in owned
    assert f"datasets/{d}/lineage-minhash-sig.npy" in owned and f"datasets/{d}/lineage-minhash-rep.npy" in owned
    assert any(e.startswith(f"scores/{d}/run-") and e.endswith("scores.parquet") for e in owned)
    assert f"jobs/{job.pk}/checkpoints/checkpoint-10/adapter_model.safetensors" in owned
    assert not any(e.startswith("uploads/") for e in before), "an ingested upload leaves no file or empty directory"
    assert set(dataset_storage_paths(dataset_id=d)) == {f"uploads/{d}/", f"datasets/{d}/", f"scores/{d}/",
                                                        f"datasets/{d}/lineage-minhash-sig.npy",
                                                        f"datasets/{d}/lineage-minhash-rep.npy",
                                                        f"datasets/{d}/lineage-lsh-keys.npy",
                                                        f"datasets/{d}/lineage-lsh-idx.npy", f"jobs/{job.pk}/", f"weights/job-{job.pk}/"}

    with django_capture_on_commit_callbacks(execute=True):  # the files go once the deletion commits
        response = api.delete(f"/api/v1/datasets/{doomed.slug}/")
    assert response.status_code == 204
    after = _tree(_isolated_storage)
    assert after == sorted(set(before) - set(owned) - {"jobs/"})  # jobs/ held only this job: no empty directory left
    assert f"datasets/{kept.pk}/samples.parquet" in after and any(e.startswith(f"scores/{kept.pk}/") for e in after)
    assert not Job.objects.filter(pk=job.pk).exists()


@pytest.mark.django_db
def test_quota_counts_bytes_held_and_failed_datasets_hold_none(user, settings, _isolated_storage):
    settings.ARENA_PREFLIGHT_RECORDS = 2  # the broken line comes after the preflight: the ingest fails
    good = ready_dataset(owner=user, name="Good", content=_jsonl(30, "good"))
    assert good.stored_bytes == default_storage.size(good.samples_file) > 0
    failed = dataset_register(owner=user, upload=_upload(b'{"instruction": "q", "output": "a"}\n' * 3 + b"[1]\n"),
                              filename="f.jsonl", name="Failed", ingest_now=True, policy="strict")
    assert failed.status == Dataset.Status.FAILED and failed.stored_bytes == 0 and failed.upload_bytes > 0
    assert _tree(_isolated_storage) == ["datasets/", f"datasets/{good.pk}/", f"datasets/{good.pk}/samples.parquet"]

    next_upload = _jsonl(30, "next")
    settings.ARENA_USER_QUOTA_BYTES = good.stored_bytes + len(next_upload)  # the failed upload's bytes are not held
    ready_dataset(owner=user, name="Fits", content=next_upload)
    with pytest.raises(TooLarge, match="upload quota exceeded"):
        dataset_register(owner=user, upload=_upload(_jsonl(30, "over")), filename="o.jsonl", name="Over")
