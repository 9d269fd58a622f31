"""Benchmark contamination: planted benchmark items are found; clean data is not flagged; descendants inherit."""
from __future__ import annotations

import json

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from rest_framework.test import APIClient

from arena.models import Dataset
from lineage.models import ContaminationFinding
from lineage.reports import contamination_report
from lineage.selectors import lineage_graph
from lineage.services import contamination_scan_request, contamination_scan_run, edge_declare
from tests.lineage.conftest import synthetic_samples
from training.models import Benchmark


def _benchmark(slug: str, items: list[dict]) -> Benchmark:
    name = default_storage.save(f"benchmarks/{slug}.jsonl", ContentFile("\n".join(json.dumps(i) for i in items).encode()))
    return Benchmark.objects.create(
        name=slug, slug=slug, domain="math", kind="generation", metric="exact_match", items_file=name, item_count=len(items)
    )


def _item_prompt(i: int) -> str:
    words = synthetic_samples(1, seed=1000 + i, words=24)[0]
    return f"Question {i}: {words['instruction']} {words['output']}?"


ITEMS = [{"id": f"q{i}", "prompt": _item_prompt(i), "answer": str(3 * i)} for i in range(10)]


@pytest.fixture
def benchmark(db):
    return _benchmark("gsm-mini", ITEMS)


@pytest.mark.django_db
def test_planted_items_are_found(user, make_dataset, benchmark):
    samples = synthetic_samples(50, seed=31)
    samples[7]["instruction"] = "Please solve: " + ITEMS[2]["prompt"].upper() + "!!"  # case and punctuation differ
    samples[19]["output"] = "Sure. " + ITEMS[5]["prompt"]
    samples[20]["instruction"] = ITEMS[5]["prompt"]
    dataset = make_dataset(user, "leaky", samples)
    finding = contamination_scan_run(
        finding_id=ContaminationFinding.objects.create(dataset=dataset, benchmark=benchmark, ngram_size=13).pk
    )
    assert finding.status == "done"
    assert (finding.items_total, finding.items_contaminated, finding.samples_total, finding.samples_hitting) == (10, 2, 50, 3)
    assert finding.ratio == pytest.approx(0.2)
    assert {e["item_id"] for e in finding.examples} == {"q2", "q5"}
    assert {e["sample_idx"] for e in finding.examples} <= {7, 19, 20}
    assert all(len(e["ngram"].split()) == 13 for e in finding.examples)


@pytest.mark.django_db
def test_clean_dataset_is_not_flagged(user, make_dataset, benchmark):
    samples = synthetic_samples(50, seed=32)
    samples[3]["instruction"] = "Natalia sold clips to her friends"  # a few shared words, no 13-gram
    dataset = make_dataset(user, "clean", samples)
    finding = contamination_scan_run(
        finding_id=ContaminationFinding.objects.create(dataset=dataset, benchmark=benchmark, ngram_size=13).pk
    )
    assert finding.status == "done" and finding.items_contaminated == 0 and finding.samples_hitting == 0
    assert finding.examples == []


@pytest.mark.django_db
def test_short_items_match_on_whole_text(user, make_dataset):
    bench = _benchmark("short", [{"id": "s1", "prompt": "What is the capital of France?", "answer": "Paris"}, {"id": "s2", "prompt": "Name a prime"}])
    samples = synthetic_samples(10, seed=33)
    samples[4]["instruction"] = "quiz: what is the capital of france paris ok"
    dataset = make_dataset(user, "quiz", samples)
    finding = contamination_scan_run(finding_id=ContaminationFinding.objects.create(dataset=dataset, benchmark=bench).pk)
    assert finding.items_contaminated == 1 and finding.examples[0]["item_id"] == "s1"


@pytest.mark.django_db
def test_contamination_propagates_to_descendants(user, other_user, make_dataset, benchmark, django_capture_on_commit_callbacks):
    samples = synthetic_samples(20, seed=34)
    samples[0]["instruction"] = ITEMS[1]["prompt"]
    root = make_dataset(user, "leaky-root", samples)
    child = make_dataset(user, "child", synthetic_samples(20, seed=35))
    grandchild = make_dataset(user, "grandchild", synthetic_samples(20, seed=36))
    edge_declare(child=child, parent=root, relation="subset")
    edge_declare(child=grandchild, parent=child, relation="distillation")
    with django_capture_on_commit_callbacks(execute=True):  # eager Celery in tests: the scan runs on commit
        findings = contamination_scan_request(user=user, dataset=root, benchmarks=[benchmark])
    findings[0].refresh_from_db()
    assert findings[0].status == "done" and findings[0].items_contaminated == 1

    graph = lineage_graph(viewer=user, slugs=["grandchild"], depth=3)
    nodes = {n["id"]: n for n in graph["nodes"]}
    assert nodes["leaky-root"]["contamination"][0]["benchmark"] == "gsm-mini"
    assert nodes["child"]["inherits_contamination_from"] == ["leaky-root"]
    assert nodes["grandchild"]["inherits_contamination_from"] == ["leaky-root"]
    report = contamination_report(viewer=user, dataset=grandchild)
    assert [(i["dataset"], i["distance"]) for i in report["inherits_contamination_from"]] == [("leaky-root", 2)]


@pytest.mark.django_db
def test_contamination_api(user, other_user, make_dataset, benchmark, django_capture_on_commit_callbacks):
    samples = synthetic_samples(20, seed=37)
    samples[0]["instruction"] = ITEMS[3]["prompt"]
    make_dataset(user, "mine", samples)
    hidden = make_dataset(user, "hidden", synthetic_samples(5, seed=38), visibility="private").slug
    client = APIClient()
    client.force_authenticate(user)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/api/v1/lineage/contamination/", {"dataset": "mine", "benchmarks": ["gsm-mini"]}, format="json")
    assert response.status_code == 202, response.json()
    report = client.get("/api/v1/lineage/contamination/", {"dataset": "mine"}).json()
    assert report["findings"][0]["items_contaminated"] == 1 and report["findings"][0]["status"] == "done"
    bad = client.post("/api/v1/lineage/contamination/", {"dataset": "mine", "benchmarks": ["nope"]}, format="json")
    assert bad.status_code == 404 and "nope" in bad.json()["error"]
    bad = client.post("/api/v1/lineage/contamination/", {"dataset": "mine", "benchmarks": ["gsm-mini"], "ngram_size": 1}, format="json")
    assert bad.status_code == 400
    other = APIClient()
    other.force_authenticate(other_user)
    assert other.get("/api/v1/lineage/contamination/", {"dataset": hidden}).status_code == 404
    assert other.post("/api/v1/lineage/contamination/", {"dataset": hidden, "benchmarks": ["gsm-mini"]}, format="json").status_code == 404


@pytest.mark.django_db
def test_broken_benchmark_fails_loudly(user, make_dataset):
    name = default_storage.save("benchmarks/broken.jsonl", ContentFile(b'{"id": 1, "prompt": "ok"}\nnot json\n'))
    bench = Benchmark.objects.create(name="broken", slug="broken", domain="math", kind="generation", metric="exact_match", items_file=name)
    dataset = make_dataset(user, "any", synthetic_samples(5, seed=39))
    finding = ContaminationFinding.objects.create(dataset=dataset, benchmark=bench)
    with pytest.raises(Exception, match="line 2 is not valid JSON"):
        contamination_scan_run(finding_id=finding.pk)
    finding.refresh_from_db()
    assert finding.status == "failed" and "line 2" in finding.error


@pytest.mark.django_db
def test_item_sharing_a_phrase_with_a_copied_item_is_not_flagged(user, make_dataset):
    shared = "the quick brown fox jumps over the lazy dog near the old river bank today"  # 15 words
    items = [
        {"id": "planted", "prompt": f"Story one: {shared} and then it ran home to sleep in the barn with the cows."},
        {"id": "clean", "prompt": f"Story two: {shared} but a completely different ending follows here, told in new words."},
    ]
    bench = _benchmark("phrases", items)
    samples = synthetic_samples(10, seed=40)
    samples[2]["instruction"] = items[0]["prompt"]  # only the first item is copied
    dataset = make_dataset(user, "phrase-copy", samples)
    finding = contamination_scan_run(finding_id=ContaminationFinding.objects.create(dataset=dataset, benchmark=bench).pk)
    assert finding.items_contaminated == 1
    assert [(h.item_id, h.signal) for h in finding.hits.all()] == [("planted", "ngram")]


@pytest.mark.django_db
def test_every_flagged_item_is_listed_with_both_texts_paginated(user, other_user, make_dataset):
    items = [{"id": f"q{i}", "prompt": _item_prompt(i), "answer": str(i)} for i in range(30)]
    bench = _benchmark("big-bench", items)
    samples = synthetic_samples(40, seed=41)
    for i in range(25):  # 25 of 30 items planted: more than the 10 examples kept on the finding
        samples[i]["instruction"] = "Solve this: " + items[i]["prompt"]
    make_dataset(user, "many-leaks", samples)
    leaks = make_dataset(user, "private-leaks", samples[:5] + synthetic_samples(3, seed=42), visibility="private")
    assert leaks.slug.startswith("private-leaks-") and leaks.slug != "private-leaks"  # private slugs get a random suffix
    client = APIClient()
    client.force_authenticate(user)
    finding = contamination_scan_run(
        finding_id=ContaminationFinding.objects.create(dataset=Dataset.objects.get(slug="many-leaks"), benchmark=bench).pk
    )
    assert finding.items_contaminated == 25 and len(finding.examples) == 10
    seen, url, params = [], "/api/v1/lineage/contamination/items/", {"dataset": "many-leaks", "limit": 10}
    while url:
        body = client.get(url, params).json()
        seen += body["results"]
        url, params = body["next"], None
    assert len(seen) == 25 == body["count"]
    assert [h["item_id"] for h in seen] == [f"q{i}" for i in range(25)]
    first = seen[0]
    assert first["signal"] == "ngram" and first["item_text"].startswith(items[0]["prompt"])
    assert items[0]["prompt"] in first["sample_text"] and len(first["matched_ngram"].split()) == 13
    assert client.get("/api/v1/lineage/contamination/items/", {"dataset": "many-leaks", "signal": "vibes"}).status_code == 400
    other = APIClient()
    other.force_authenticate(other_user)
    assert other.get("/api/v1/lineage/contamination/items/", {"dataset": leaks.slug}).status_code == 404
    assert other.get("/api/v1/lineage/contamination/items/", {"dataset": "many-leaks"}).json()["count"] == 25


@pytest.mark.django_db
def test_semantic_signal_finds_paraphrases_and_names_its_signal(user, make_dataset):
    from tests.lineage.paraphrases import ITEMS, NEGATIVES

    bench = _benchmark("para", [{"id": f"p{i}", "prompt": original} for i, (original, _, _) in enumerate(ITEMS[:8])])
    samples = synthetic_samples(12, seed=43)
    samples[0]["instruction"] = ITEMS[0][0]  # verbatim
    samples[1]["instruction"] = ITEMS[1][1]  # light paraphrase
    samples[2]["instruction"] = ITEMS[2][1]
    for row, negative in enumerate(NEGATIVES[:5], start=3):
        samples[row]["instruction"] = negative
    dataset = make_dataset(user, "paraphrased", samples)
    finding = ContaminationFinding.objects.create(dataset=dataset, benchmark=bench, semantic_threshold=0.72)
    finding = contamination_scan_run(finding_id=finding.pk)
    hits = {(h.item_id, h.signal): h for h in finding.hits.all()}
    assert set(hits) == {("p0", "ngram"), ("p0", "semantic"), ("p1", "semantic"), ("p2", "semantic")}
    assert hits[("p1", "semantic")].score >= 0.9 and hits[("p1", "semantic")].sample_text.startswith(ITEMS[1][1])
    assert (finding.items_contaminated, finding.items_ngram, finding.items_semantic) == (3, 1, 3)
    assert finding.embedder["embedder"] == "all-MiniLM-L6-v2"
