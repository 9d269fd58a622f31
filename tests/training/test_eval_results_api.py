"""What a reviewer opens after a job: provenance of each result, the per-item outputs endpoint and who may see it;
benchmark registration errors (API and management command)."""
from __future__ import annotations

import io
import json

import pytest
from django.core.files.storage import default_storage
from django.core.management import CommandError, call_command
from rest_framework.test import APIClient

from training.models import Benchmark
from training.job_runner import job_run
from training.services import job_create
from tests.training.eval_items import ITEMS

pytestmark = pytest.mark.django_db


def _client(user=None):
    client = APIClient()
    if user is not None:
        client.force_authenticate(user)
    return client


@pytest.fixture
def finished_private_job(user, tiny_base, recipe, benchmarks, make_dataset):
    dataset = make_dataset(name="secret", visibility="private")
    job = job_create(dataset=dataset, base_model=tiny_base, recipe=recipe, seed=0, benchmarks=benchmarks, user=user)
    job = job_run(job_id=job.pk)  # the worker side, in this process
    assert job.status == "succeeded", job.error
    return job


def test_results_carry_provenance_and_items_are_paginated(finished_private_job, user):
    job = finished_private_job
    detail = _client(user).get(f"/api/v1/jobs/{job.pk}/").json()
    results = {r["benchmark"]: r for r in detail["results"]}
    mc = results["demo-comparison"]
    assert mc["harness_version"].startswith("lm-eval 0.4.") and mc["backend"] == "hf" and mc["metric"] == "acc,none"
    assert mc["task_config"].startswith("task: arena_demo_comparison") and len(mc["task_config_hash"]) == 64
    assert mc["num_fewshot"] == 0 and mc["generation_settings"]["chat_template"] is True
    assert results["demo-addition"]["generation_settings"]["generation_kwargs"]["max_gen_toks"] == 4

    url = f"/api/v1/jobs/{job.pk}/results/demo-addition/items/"
    page = _client(user).get(url + "?limit=5&offset=5").json()
    assert page["count"] == 12 and len(page["results"]) == 5 and "offset=10" in page["next"]
    item = page["results"][0]
    assert item["doc_id"] == 5 and item["prompt"].startswith("<|user|>What is") and item["prompt"].endswith("<|assistant|>")
    assert item["doc"]["id"] == "math-5" and item["target"] == item["doc"]["answer"]
    assert set(item["metrics"]) == {"numeric_match"} and isinstance(item["response"], str)
    choice = _client(user).get(f"/api/v1/jobs/{job.pk}/results/demo-comparison/items/?limit=1").json()["results"][0]
    assert len(choice["response"]) == len(choice["choices"]) == 2  # one log-likelihood per choice
    assert choice["metrics"]["acc"] == float(max(range(2), key=choice["response"].__getitem__) == choice["doc"]["answer_index"])


def test_job_page_links_each_result_to_its_answers(finished_private_job, client, user):
    client.force_login(user)
    html = client.get(f"/jobs/{finished_private_job.pk}/").content.decode()
    assert f'href="/api/v1/jobs/{finished_private_job.pk}/results/demo-addition/items/"' in html
    assert "lm-eval 0.4." in html and "acc,none, 0-shot" in html


def test_items_are_visible_only_to_who_may_see_the_job(finished_private_job, other_user):
    url = f"/api/v1/jobs/{finished_private_job.pk}/results/demo-addition/items/"
    assert _client(other_user).get(url).status_code == 404
    assert _client().get(url).status_code == 404
    missing = _client(finished_private_job.created_by).get(f"/api/v1/jobs/{finished_private_job.pk}/results/nope/items/")
    assert missing.status_code == 404 and "no result on benchmark 'nope'" in missing.json()["error"]


def _upload(api, *, kind, lines, name="b", **fields):
    upload = io.BytesIO("".join(line + "\n" for line in lines).encode())
    upload.name = "b.jsonl"
    return api.post("/api/v1/benchmarks/", {"name": name, "kind": kind, "file": upload, **fields}, format="multipart")


@pytest.mark.parametrize("kind, lines, error", [
    ("gsm8k", [json.dumps(ITEMS["gsm8k"][0]), json.dumps({"question": "q", "answer": "7"})],
     "line 2: a gsm8k 'answer' must end with '#### <number>' (GSM8K's format)"),
    ("mmlu", [json.dumps({"question": "q", "choices": ["a", "b", "c", "d"], "answer": 4})],
     "line 1: a mmlu item needs an integer 'answer' in [0, 3] (got 4)"),
    ("arc_challenge", [json.dumps({"question": "q", "choices": {"text": ["a", "b"], "label": ["A", "B"]}, "answerKey": "C"})],
     "line 1: 'answerKey' 'C' is not one of the labels ['A', 'B']"),
    ("multiple_choice", [json.dumps({"id": 1, "prompt": "p", "choices": ["a", "b"], "answer_index": 0}),
                         json.dumps({"id": "2", "prompt": "p", "choices": ["a", "b"], "answer_index": 1})],
     "line 2: 'id' is a string, but it is a number at line 1 (a column keeps one type across the file)"),
    ("humaneval", ['{"task_id": "x", "prompt": "def f():\\n"}'], "line 1: a humaneval item needs a non-empty string 'test'"),
    ("generation", ['{"prompt": "p", "answer": "a"}', "{not json"], "line 2: not valid JSON"),
])
def test_a_file_that_does_not_match_its_task_fails_at_registration(user, kind, lines, error):
    response = _upload(_client(user), kind=kind, lines=lines)
    assert response.status_code == 400
    assert response.json()["error"].startswith(f"benchmark file b.jsonl does not match kind '{kind}': {error}")
    assert not Benchmark.objects.filter(name="b").exists()
    assert not default_storage.exists("benchmarks/b/items.parquet")


def test_registration_options_are_checked(user):
    api = _client(user)
    line = json.dumps(ITEMS["multiple_choice"][0])
    response = _upload(api, kind="no-such", lines=[line])
    assert response.status_code == 400 and "unknown benchmark kind 'no-such'; expected one of arc_challenge, bbh" in response.json()["error"]
    response = _upload(api, kind="multiple_choice", lines=[line], metric="pass@1")
    assert response.json()["error"] == "metric 'pass@1' does not fit kind 'multiple_choice'; expected one of accuracy, accuracy_norm"
    response = _upload(api, kind="multiple_choice", lines=[line], max_gen_toks=5)
    assert "max_gen_toks does not apply to kind 'multiple_choice'" in response.json()["error"]
    response = _upload(api, kind="multiple_choice", lines=[line], limit=0)
    assert response.json()["error"] == "limit must be empty or an integer in [1, 10000000], got 0"
    response = _upload(api, kind="gsm8k", lines=[json.dumps(ITEMS["gsm8k"][0])], num_fewshot=2, limit=1)
    assert response.status_code == 201
    assert {k: response.json()[k] for k in ("domain", "metric", "num_fewshot", "limit")} == {
        "domain": "math", "metric": "exact_match", "num_fewshot": 2, "limit": 1}


def test_benchmark_kinds_endpoint_lists_columns_and_defaults():
    kinds = {k["name"]: k for k in _client().get("/api/v1/benchmark-kinds/").json()}
    assert len(kinds) == 13
    assert kinds["gsm8k"]["num_fewshot"] == 5 and kinds["gsm8k"]["metrics"]["exact_match"] == "exact_match,flexible-extract"
    assert kinds["humaneval"]["executes_code"] is True and "entry_point: str" in kinds["humaneval"]["columns"]


def test_register_command_humaneval_from_the_package_with_a_slice(capsys, tmp_path):
    call_command("training_register_benchmark", "--suite", "humaneval", "--name", "HumanEval slice", "--limit", "3",
                 "--max-gen-toks", "64", "--chat-template", "yes")
    benchmark = Benchmark.objects.get(name="HumanEval slice")
    assert (benchmark.kind, benchmark.item_count, benchmark.limit, benchmark.metric) == ("humaneval", 164, 3, "pass@1")
    assert "registered humaneval-slice: 164 items" in capsys.readouterr().out
    bad = tmp_path / "gsm.jsonl"
    bad.write_text('{"question": "q"}\n')
    with pytest.raises(CommandError, match="gsm.jsonl does not match kind 'gsm8k': line 1: a gsm8k item needs a "
                                           "non-empty string 'answer'"):
        call_command("training_register_benchmark", "--suite", "gsm8k", "--file", str(bad))
    with pytest.raises(CommandError, match="kind 'mmlu' ships no data here: give the file to register"):
        call_command("training_register_benchmark", "--suite", "mmlu")
