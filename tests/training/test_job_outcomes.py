"""A job run in this process (the code the gpu worker runs): kept weights, download, reuse as a base model,
retention, and bad input that must end as a clear per-job failure (never stuck, never a partial result)."""
from __future__ import annotations

import io
import os
import shutil
import zipfile

import pytest
import torch
from rest_framework.test import APIClient

from arena.errors import Conflict, Forbidden
from arena.storage import job_weights_dir
from training.job_runner import job_checkpoint_root, job_run
from training.models import BaseModel, EvalResult, Job
from training.services import base_model_from_job, job_create, recipe_create
from training.weights import weights_apply_retention

pytestmark = pytest.mark.django_db


@pytest.fixture
def small_recipe(db):
    return recipe_create(name="small", learning_rate=3e-3, epochs=1.0, batch_size=8, max_length=48,
                         method="lora", lora_rank=4, lora_alpha=8)


@pytest.fixture
def run_job(user, tiny_base, small_recipe, benchmarks, make_dataset):
    made = []

    def _run(*, dataset=None, base_model=None, recipe=None, seed=0):
        if dataset is None:
            made[:] = made or [make_dataset(size=32)]
            dataset = made[0]
        job = job_create(dataset=dataset, base_model=base_model or tiny_base,
                         recipe=recipe or small_recipe, seed=seed, benchmarks=benchmarks, user=user)
        return job_run(job_id=job.pk)

    return _run


def _client(user=None):
    client = APIClient()
    if user is not None:
        client.force_authenticate(user)
    return client


def test_weights_are_kept_downloadable_and_reusable_as_a_base_model(run_job, client, user, other_user, benchmarks):
    job = run_job()
    assert job.status == "succeeded", job.error
    assert {"config.json", "model.safetensors", "tokenizer.json", "tokenizer_config.json"} <= set(os.listdir(job.weights_dir))
    detail = _client(user).get(f"/api/v1/jobs/{job.pk}/").json()
    assert detail["has_weights"] is True
    client.force_login(user)
    assert f'href="/api/v1/jobs/{job.pk}/weights/"' in client.get(f"/jobs/{job.pk}/").content.decode()

    response = _client().get(f"/api/v1/jobs/{job.pk}/weights/")  # public dataset: anyone may download
    assert response.status_code == 200 and response["Content-Type"] == "application/zip"
    archive = zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content)))
    assert archive.testzip() is None
    names = set(archive.namelist())
    assert f"arena-job-{job.pk}/model.safetensors" in names and f"arena-job-{job.pk}/tokenizer.json" in names
    with open(os.path.join(job.weights_dir, "model.safetensors"), "rb") as handle:
        assert archive.read(f"arena-job-{job.pk}/model.safetensors") == handle.read()

    with pytest.raises(Forbidden):
        base_model_from_job(job=job, user=other_user, name="not yours")
    response = _client(user).post(f"/api/v1/jobs/{job.pk}/register-base-model/", {"name": "tiny + clean"},
                                  format="json")
    assert response.status_code == 201, response.json()
    model = BaseModel.objects.get(slug=response.json()["slug"])
    assert model.path == job.weights_dir and model.revision == f"job-{job.pk}" and model.parameter_count

    # the new base model is evaluated and fine-tuned like any other
    reference = job_create(dataset=None, base_model=model, recipe=None, seed=0, benchmarks=benchmarks, user=user)
    reference = job_run(job_id=reference.pk)
    assert reference.status == "succeeded", reference.error
    assert reference.results.count() == len(benchmarks)
    again = run_job(base_model=model, seed=1)
    assert again.status == "succeeded", again.error


def test_private_jobs_weights_are_private(run_job, user, other_user, make_dataset):
    job = run_job(dataset=make_dataset(size=32, name="secret", visibility="private"))
    assert job.status == "succeeded", job.error
    assert _client(other_user).get(f"/api/v1/jobs/{job.pk}/weights/").status_code == 404
    assert _client(user).get(f"/api/v1/jobs/{job.pk}/weights/").status_code == 200
    with pytest.raises(Forbidden, match="not public"):
        base_model_from_job(job=job, user=user, name="leak")


def test_retention_keeps_the_newest_and_base_model_weights(run_job, settings, user):
    settings.ARENA_KEEP_WEIGHTS = 1
    first = run_job(seed=0)
    base_model_from_job(job=first, user=user, name="kept as base")
    second = run_job(seed=1)
    third = run_job(seed=2)
    for job in (first, second, third):
        job.refresh_from_db()
    assert first.weights_dir and os.path.isdir(first.weights_dir)  # registered as a base model: never removed
    assert second.weights_dir == "" and not job_weights_dir(second.pk).exists()
    assert third.weights_dir and os.path.isdir(third.weights_dir)
    assert _client(user).get(f"/api/v1/jobs/{second.pk}/weights/").status_code == 404
    assert weights_apply_retention() == []
    settings.ARENA_KEEP_WEIGHTS = 0
    fourth = run_job(seed=3)
    assert fourth.status == "succeeded" and fourth.weights_dir == ""
    with pytest.raises(Conflict, match="kept no weights"):
        base_model_from_job(job=fourth, user=user, name="nothing")


def test_gpu_out_of_memory_fails_the_job_with_advice(run_job, monkeypatch):
    def out_of_memory(**kwargs):
        raise torch.cuda.OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB")

    monkeypatch.setattr("training.engine.sft.train_model", out_of_memory)
    job = run_job()
    assert job.status == "failed" and job.finished_at is not None
    assert job.error.startswith("ran out of GPU memory: lower the recipe's batch_size")
    assert "max_length" in job.error and "Tried to allocate 2.00 GiB" in job.error
    assert not EvalResult.objects.filter(job=job).exists()
    assert not job_checkpoint_root(job).exists() and job.weights_dir == ""


def test_base_model_removed_after_launch_fails_the_job_clearly(run_job, user, small_recipe, benchmarks, make_dataset,
                                                               tmp_path):
    directory = tmp_path / "model"
    shutil.copytree(run_job().weights_dir, directory)
    model = BaseModel.objects.create(name="soon gone", slug="soon-gone", path=str(directory))
    job = job_create(dataset=make_dataset(size=40, name="d2"), base_model=model, recipe=small_recipe, seed=0,
                     benchmarks=benchmarks, user=user)
    shutil.rmtree(directory)
    job = job_run(job_id=job.pk)
    assert job.status == "failed"
    assert job.error == f"base model directory not found: {directory} (use a local Hugging Face directory, " \
                        "'gguf:<file>' or 'tiny:<json>')"
    assert not job.results.exists() and Job.objects.get(pk=job.pk).stage == "failed"
