"""Bad input is refused at launch with a clear reason, and nothing is created."""
from __future__ import annotations

import io
import json

import pytest

from arena.errors import Forbidden, InvalidInput
from training.models import BaseModel, Benchmark, Job, Recipe
from training.benchmark_services import benchmark_create
from training.services import (
    base_model_create,
    job_create,
    job_retry,
    jobs_launch_batch,
    recipe_create,
)

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "values, message",
    [
        ({"learning_rate": -1e-4}, "learning_rate must be a number in (0, 1)"),
        ({"learning_rate": 1e-4, "batch_size": 0}, "batch_size must be an integer in [1, 4096], got 0"),
        ({"learning_rate": 1e-4, "epochs": 0}, "epochs must be a number in (0, 100]"),
        ({"learning_rate": 1e-4, "scheduler": "step"}, "scheduler must be one of cosine, linear, constant"),
        ({"learning_rate": 1e-4, "warmup_ratio": 1.5}, "warmup_ratio must be a number in [0, 1)"),
        ({"learning_rate": 1e-4, "method": "lora", "lora_rank": 0}, "lora_rank must be an integer in [1, 4096]"),
    ],
)
def test_bad_recipe_values_are_refused(values, message):
    with pytest.raises(InvalidInput) as info:
        recipe_create(name="bad", **values)
    assert message in info.value.message
    assert not Recipe.objects.filter(name="bad").exists()


def test_job_with_bad_stored_recipe_fails_at_launch(user, tiny_base, benchmarks, make_dataset):
    dataset = make_dataset()
    recipe = Recipe.objects.create(name="stored bad", slug="stored-bad", learning_rate=-0.1, batch_size=0)
    with pytest.raises(InvalidInput) as info:
        job_create(dataset=dataset, base_model=tiny_base, recipe=recipe, seed=0, benchmarks=benchmarks, user=user)
    assert "learning_rate must be a number in (0, 1), got -0.1" in info.value.message
    assert "batch_size must be an integer in [1, 4096], got 0" in info.value.message
    assert not Job.objects.exists()


@pytest.mark.parametrize(
    "path, message",
    [
        ("/nowhere/model", "base model directory not found: /nowhere/model"),
        ("gguf:/nowhere/m.gguf", "base model GGUF file not found: /nowhere/m.gguf"),
        ("tiny:{not json", "tiny model config is not valid JSON"),
        ('tiny:{"hidden_size": 0}', "hidden_size must be a positive integer"),
        ('tiny:{"layers": 2}', "unknown tiny model config key(s) layers"),
    ],
)
def test_bad_base_model_path_is_refused(path, message):
    with pytest.raises(InvalidInput) as info:
        base_model_create(name="m", path=path)
    assert message in info.value.message


def test_missing_base_model_path_fails_at_job_launch(user, recipe, benchmarks, make_dataset):
    dataset = make_dataset()
    gone = BaseModel.objects.create(name="gone", slug="gone", path="/models/was-deleted")
    with pytest.raises(InvalidInput, match="base model 'gone': base model directory not found: /models/was-deleted"):
        job_create(dataset=dataset, base_model=gone, recipe=recipe, seed=0, benchmarks=benchmarks, user=user)
    assert not Job.objects.exists()


def test_batch_is_validated_before_anything_is_created(user, tiny_base, recipe, benchmarks, make_dataset):
    dataset = make_dataset()
    gone = BaseModel.objects.create(name="gone", slug="gone", path="/models/was-deleted")
    with pytest.raises(InvalidInput, match="was-deleted"):
        jobs_launch_batch(dataset=dataset, base_models=[tiny_base, gone], seeds=[0, 1], recipe=recipe,
                          benchmarks=benchmarks, user=user)
    with pytest.raises(InvalidInput, match="seeds repeat"):
        jobs_launch_batch(dataset=dataset, base_models=[tiny_base], seeds=[0, 0], recipe=recipe,
                          benchmarks=benchmarks, user=user)
    assert not Job.objects.exists()
    jobs = jobs_launch_batch(dataset=dataset, base_models=[tiny_base], seeds=[0, 1, 2], recipe=recipe,
                             benchmarks=benchmarks, user=user)
    assert len(jobs) == 3 and len({j.batch for j in jobs}) == 1 and len({j.config_hash for j in jobs}) == 3
    assert all(j.status == "queued" for j in jobs)


def test_reference_job_takes_no_recipe_and_training_job_needs_one(user, tiny_base, recipe, benchmarks, make_dataset):
    with pytest.raises(InvalidInput, match="takes no recipe"):
        job_create(dataset=None, base_model=tiny_base, recipe=recipe, seed=0, benchmarks=benchmarks, user=user)
    with pytest.raises(InvalidInput, match="needs a recipe"):
        job_create(dataset=make_dataset(), base_model=tiny_base, recipe=None, seed=0, benchmarks=benchmarks, user=user)
    with pytest.raises(InvalidInput, match="at least one benchmark"):
        job_create(dataset=None, base_model=tiny_base, recipe=None, seed=0, benchmarks=[], user=user)


def test_code_benchmark_needs_opt_in_at_launch(settings, user, tiny_base):
    item = {"id": "t1", "prompt": "def f():\n", "test": "def check(c):\n    assert c() == 1\n", "entry_point": "f"}
    bench = benchmark_create(name="code", domain="code", kind="code", metric="pass@1",
                             upload=io.BytesIO((json.dumps(item) + "\n").encode()), filename="c.jsonl")
    settings.ARENA_ALLOW_CODE_EXECUTION = False
    with pytest.raises(InvalidInput, match="ARENA_ALLOW_CODE_EXECUTION=true"):
        job_create(dataset=None, base_model=tiny_base, recipe=None, seed=0, benchmarks=[bench], user=user)


def _upload(lines):
    return io.BytesIO("".join(line + "\n" for line in lines).encode())


@pytest.mark.parametrize(
    "kind, metric, lines, message",
    [
        ("generation", "exact_match", ['{"id": 1, "prompt": "a", "answer": "b"}', "{oops"], "line 2: not valid JSON"),
        ("generation", "exact_match", ['{"id": 1, "prompt": "a"}'], "line 1: a generation item needs 'answer', a non-empty string or a number"),
        ("multiple_choice", "accuracy", ['{"prompt": "a", "choices": ["x", "y"], "answer_index": 2}'],
         "line 1: a multiple_choice item needs an integer 'answer_index' in [0, 1] (got 2)"),
        ("code", "pass@1", ['{"prompt": "def f():", "test": "x"}'], "line 1: a code item needs a non-empty string 'entry_point'"),
        ("generation", "accuracy", ['{"prompt": "a", "answer": "b"}'], "metric 'accuracy' does not fit kind 'generation'"),
        ("generation", "exact_match", ['{"id": 1, "prompt": "a", "answer": "b"}'] * 2, "line 2: duplicate item id 1"),
        ("generation", "exact_match", [], "no items"),
    ],
)
def test_corrupt_benchmark_files_are_refused(kind, metric, lines, message):
    with pytest.raises(InvalidInput) as info:
        benchmark_create(name="b", domain="general", kind=kind, metric=metric, upload=_upload(lines), filename="b.jsonl")
    assert message in info.value.message
    assert not Benchmark.objects.exists()


def test_only_creator_or_dataset_owner_may_retry(user, other_user, tiny_base, recipe, benchmarks, make_dataset):
    job = job_create(dataset=make_dataset(), base_model=tiny_base, recipe=recipe, seed=0, benchmarks=benchmarks, user=user)
    Job.objects.filter(pk=job.pk).update(status="failed", error="boom")
    job.refresh_from_db()
    with pytest.raises(Forbidden):
        job_retry(job=job, user=other_user)
    job = job_retry(job=job, user=user)
    assert job.status == "queued" and job.error == "" and "retry requested" in job.logs


def test_queued_job_cancelled_before_it_runs_never_runs(user, tiny_base, recipe, benchmarks, make_dataset):
    from training.job_runner import job_run
    from training.services import job_cancel

    job = job_create(dataset=make_dataset(), base_model=tiny_base, recipe=recipe, seed=0, benchmarks=benchmarks, user=user)
    job = job_cancel(job=job, user=user)
    assert job.status == "cancelled" and job.finished_at is not None
    job = job_run(job_id=job.pk)  # the queued message arrives later: nothing happens
    assert job.status == "cancelled" and job.attempts == 0 and not job.results.exists()


def test_cannot_train_on_someone_elses_private_dataset(user, other_user, tiny_base, recipe, benchmarks, make_dataset):
    private = make_dataset(name="mine only", visibility="private")
    with pytest.raises(Forbidden, match="private to another user"):
        job_create(dataset=private, base_model=tiny_base, recipe=recipe, seed=0, benchmarks=benchmarks, user=other_user)
    with pytest.raises(Forbidden):
        jobs_launch_batch(dataset=private, base_models=[tiny_base], seeds=[0], recipe=recipe, benchmarks=benchmarks,
                          user=other_user)
    assert not Job.objects.exists()
