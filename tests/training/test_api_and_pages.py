"""REST endpoints and pages of jobs: launch, batch, filters, visibility, cancel/retry permissions."""
from __future__ import annotations

import io

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from training.models import Benchmark, Job

pytestmark = pytest.mark.django_db


@pytest.fixture
def api(user):
    client = APIClient()
    client.force_authenticate(user)
    return client


def test_lists_of_base_models_recipes_benchmarks(api, tiny_base, recipe, benchmarks):
    assert [m["slug"] for m in api.get("/api/v1/base-models/").json()["results"]] == [tiny_base.slug]
    recipes = {r["slug"]: r for r in api.get("/api/v1/recipes/").json()["results"]}
    assert recipes[recipe.slug]["learning_rate"] == 3e-3
    assert recipes["proxy-reduced-lr"]["learning_rate"] == 5e-6  # installed by migration
    body = api.get("/api/v1/benchmarks/?domain=math").json()
    assert [b["slug"] for b in body["results"]] == ["demo-addition"]


def test_recipe_create_reports_bad_values(api):
    response = api.post("/api/v1/recipes/", {"name": "r", "learning_rate": -1, "batch_size": 0}, format="json")
    assert response.status_code == 400
    assert "learning_rate must be a number in (0, 1)" in response.json()["error"]
    assert "batch_size must be an integer" in response.json()["error"]


def test_base_model_registration_is_staff_only(api):
    response = api.post("/api/v1/base-models/", {"name": "m", "path": "tiny:{}"}, format="json")
    assert response.status_code == 403


def test_benchmark_upload_validates_line_by_line(api):
    good = '{"id": 1, "prompt": "2+2?", "answer": "4"}\n'
    upload = io.BytesIO((good + '{"id": 2, "prompt": "x"}\n').encode())
    upload.name = "b.jsonl"
    response = api.post("/api/v1/benchmarks/", {"name": "b", "domain": "math", "kind": "generation",
                                                "metric": "numeric_match", "file": upload}, format="multipart")
    assert response.status_code == 400
    assert response.json()["error"] == ("benchmark file b.jsonl does not match kind 'generation': line 2: a generation "
                                        "item needs 'answer', a non-empty string or a number (got nothing)")
    upload = io.BytesIO(good.encode())
    upload.name = "b.jsonl"
    response = api.post("/api/v1/benchmarks/", {"name": "b", "domain": "math", "kind": "generation",
                                                "metric": "numeric_match", "file": upload}, format="multipart")
    assert response.status_code == 201 and response.json()["item_count"] == 1
    assert Benchmark.objects.get(slug="b").item_count == 1


def test_single_and_batch_launch_then_filter(api, tiny_base, recipe, benchmarks, make_dataset):
    dataset = make_dataset()
    slugs = [b.slug for b in benchmarks]
    response = api.post("/api/v1/jobs/", {"dataset": dataset.slug, "base_model": tiny_base.slug, "recipe": recipe.slug,
                                          "seed": 3, "benchmarks": slugs}, format="json")
    assert response.status_code == 201, response.json()
    assert response.json()["status"] == "queued" and response.json()["seed"] == 3
    response = api.post("/api/v1/jobs/batch/", {"dataset": dataset.slug, "base_models": [tiny_base.slug],
                                                "seeds": [0, 1, 2], "recipe": recipe.slug, "benchmarks": slugs},
                        format="json")
    assert response.status_code == 201, response.json()
    batch = response.json()["batch"]
    assert [j["seed"] for j in response.json()["jobs"]] == [0, 1, 2]
    listed = api.get(f"/api/v1/jobs/?batch={batch}").json()
    assert listed["count"] == 3
    assert api.get("/api/v1/jobs/?status=queued").json()["count"] == 4
    assert api.get("/api/v1/jobs/?status=nonsense").status_code == 400


def test_launch_errors_are_specific(api, tiny_base, recipe, benchmarks, make_dataset):
    dataset = make_dataset()
    response = api.post("/api/v1/jobs/batch/", {"dataset": dataset.slug, "base_models": [tiny_base.slug], "seeds": [0],
                                                "recipe": recipe.slug, "benchmarks": ["no-such-bench"]}, format="json")
    assert response.status_code == 400 and response.json()["error"] == "unknown benchmark(s) no-such-bench"
    response = api.post("/api/v1/jobs/", {"dataset": "missing", "base_model": tiny_base.slug, "recipe": recipe.slug,
                                          "benchmarks": [benchmarks[0].slug]}, format="json")
    assert response.status_code == 404
    assert not Job.objects.exists()


def test_private_dataset_jobs_are_hidden_and_controls_are_guarded(
    api, user, other_user, tiny_base, recipe, benchmarks, make_dataset
):
    private = make_dataset(name="secret", visibility="private")
    job_id = api.post("/api/v1/jobs/", {"dataset": private.slug, "base_model": tiny_base.slug, "recipe": recipe.slug,
                                        "benchmarks": [benchmarks[0].slug]}, format="json").json()["id"]
    other = APIClient()
    other.force_authenticate(other_user)
    assert other.get(f"/api/v1/jobs/{job_id}/").status_code == 404
    assert other.get("/api/v1/jobs/").json()["count"] == 0
    public = make_dataset(name="open", size=90)
    public_job = api.post("/api/v1/jobs/", {"dataset": public.slug, "base_model": tiny_base.slug, "recipe": recipe.slug,
                                            "benchmarks": [benchmarks[0].slug]}, format="json").json()["id"]
    assert other.get(f"/api/v1/jobs/{public_job}/").status_code == 200
    response = other.post(f"/api/v1/jobs/{public_job}/cancel/")
    assert response.status_code == 403 and "creator" in response.json()["error"]
    response = api.post(f"/api/v1/jobs/{public_job}/cancel/")
    assert response.status_code == 200 and response.json()["status"] == "cancelled"
    assert api.post(f"/api/v1/jobs/{public_job}/cancel/").status_code == 409
    response = api.post(f"/api/v1/jobs/{public_job}/retry/")
    assert response.status_code == 200 and response.json()["status"] == "queued"
    detail = api.get(f"/api/v1/jobs/{public_job}/").json()
    assert detail["logs_tail"][-1].endswith("retry requested") and detail["results"] == []


def test_job_pages(client, user, tiny_base, recipe, benchmarks, make_dataset):
    client.force_login(user)
    page = client.get(reverse("job-launch"))
    assert page.status_code == 200 and b"launch-form" in page.content
    dataset = make_dataset()
    response = client.post(reverse("job-launch"), {
        "dataset": dataset.slug, "base_models": [tiny_base.slug], "recipe": recipe.slug, "seeds": "0, 1",
        "benchmarks": [b.slug for b in benchmarks],
    })
    assert response.status_code == 302, response.content.decode()[:2000]
    jobs = list(Job.objects.order_by("seed"))
    assert [j.seed for j in jobs] == [0, 1]
    listing = client.get(reverse("job-list"))
    assert listing.status_code == 200 and b'http-equiv="refresh"' in listing.content
    detail = client.get(reverse("job-detail", args=[jobs[0].pk]))
    assert b"cancel-button" in detail.content and b'http-equiv="refresh"' in detail.content
    client.post(reverse("job-cancel", args=[jobs[0].pk]))
    jobs[0].refresh_from_db()
    assert jobs[0].status == "cancelled"
    detail = client.get(reverse("job-detail", args=[jobs[0].pk]))
    assert b"retry-button" in detail.content and b'http-equiv="refresh"' not in detail.content
    bad = client.post(reverse("job-launch"), {"dataset": dataset.slug, "base_models": [tiny_base.slug],
                                              "recipe": "", "seeds": "0", "benchmarks": [benchmarks[0].slug]})
    assert bad.status_code == 200 and b"a training job needs a recipe" in bad.content
