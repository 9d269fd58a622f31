"""A small but realistic Arena for the browser tests and for looking at the pages by hand: two base models,
five benchmarks (one per domain plus one), nine datasets with real-looking names, three seeds each, score
aggregates on several axes, declared and inferred lineage, a contamination finding and a private dataset.

``python manage.py shell -c "from tests.frontend.showcase import build; build()"`` fills an empty database.
"""
from __future__ import annotations

import math
import random

from django.contrib.auth import get_user_model

from arena.models import Dataset, Domain
from training.models import BaseModel, Benchmark, EvalResult, Job

BENCHMARKS = [  # slug, name, domain, kind
    ("arc-easy", "ARC-Easy", "general", "multiple_choice"),
    ("mmlu-mini", "MMLU-mini", "general", "multiple_choice"),
    ("gsm8k-mini", "GSM8K-mini", "math", "generation"),
    ("humaneval", "HumanEval", "code", "code"),
    ("logiqa-mini", "LogiQA-mini", "reasoning", "multiple_choice"),
]
HF = "https://huggingface.co/datasets/"
DATASETS = [  # slug, name, size, tags, quality (drives scores), source
    ("alpaca-gpt4", "Alpaca-GPT4 (cleaned)", 52_002, ("general",), 0.55, HF + "vicgalle/alpaca-gpt4"),
    ("openhermes-math", "OpenHermes-2.5 math-heavy subset filtered by IFD", 18_400, ("general", "math"), 0.72,
     HF + "teknium/OpenHermes-2.5"),
    ("metamathqa-40k", "MetaMathQA-40K", 40_000, ("math",), 0.68, HF + "meta-math/MetaMathQA"),
    ("magicoder-oss-75k", "Magicoder-OSS-Instruct-75K", 75_197, ("code",), 0.61,
     HF + "ise-uiuc/Magicoder-OSS-Instruct-75K"),
    ("sharegpt-unfiltered", "ShareGPT-Vicuna unfiltered", 94_145, ("general", "mixed"), 0.40, ""),
    ("ultrachat-200k", "UltraChat 200k", 207_865, ("general",), 0.50, HF + "HuggingFaceH4/ultrachat_200k"),
    ("evol-instruct-70k", "WizardLM Evol-Instruct 70k", 70_000, ("general", "code"), 0.64, ""),
    ("orca-math-200k", "Orca-Math 200k", 200_035, ("math",), 0.70, HF + "microsoft/orca-math-word-problems-200k"),
]
SCORERS = [  # scorer, axis, reads, higher_is_better, spread
    ("response_length", "length", "A", True, 0.18),
    ("lexical_diversity", "diversity", "A", True, 0.12),
    ("perplexity", "quality", "QA", False, 0.15),
    ("ifd", "complexity", "QA", True, 0.20),
    ("flesch_reading_ease", "language", "A", True, 0.10),
    ("thinking_steps", "reasoning", "A", True, 0.16),
]


def _histogram(centre: float, spread: float) -> list[int]:
    bins = []
    for i in range(20):
        x = (i + 0.5) / 20
        bins.append(int(400 * math.exp(-((x - centre) ** 2) / (2 * spread ** 2))))
    return bins


def _aggregate(dataset: Dataset, scorer: str, axis: str, reads: str, hib: bool, centre: float, spread: float):
    from scoring.models import ScoreAggregate, ScoringRun

    run = ScoringRun.objects.create(dataset=dataset, scorers=[{"name": scorer, "config": {}}], status="succeeded")
    return ScoreAggregate.objects.create(
        dataset=dataset, run=run, scorer=scorer, scorer_version="1", config_hash="c0", axis=axis, reads=reads,
        higher_is_better=hib, count=dataset.sample_count or 0, mean=centre * 100, median=centre * 100,
        p10=(centre - spread) * 100, p90=(centre + spread) * 100, norm_mean=centre, norm_median=centre,
        histogram=_histogram(centre, spread),
    )


def build(*, alice=None, bob=None) -> dict:
    """Create the showcase; returns the users and datasets by slug."""
    from lineage.models import ContaminationFinding, LineageEdge

    users = get_user_model().objects
    alice = alice or users.create_user("alice", password="pw-alice-123")
    bob = bob or users.create_user("bob", password="pw-bob-123")
    rng = random.Random(7)
    smol = BaseModel.objects.create(name="SmolLM2-135M-Instruct", slug="smollm2-135m", path="gguf:smollm2",
                                    parameter_count=134_515_008)
    tiny = BaseModel.objects.create(name="Tiny-2L-128", slug="tiny", path="tiny:{}", parameter_count=1_200_000)
    benchmarks = {
        slug: Benchmark.objects.create(name=name, slug=slug, domain=domain, kind=kind, metric="accuracy",
                                       items_file=f"bench/{slug}.jsonl", item_count=200)
        for slug, name, domain, kind in BENCHMARKS
    }

    def results(dataset, quality: float, base_model: BaseModel, seeds: int = 3):
        for seed in range(seeds):
            job = Job.objects.create(dataset=dataset, base_model=base_model, seed=seed, status=Job.Status.SUCCEEDED)
            for b in benchmarks.values():
                tags = dataset.domains_list if dataset else []
                bias = {"math": 0.1, "code": 0.05}.get(b.domain, 0.0) * (b.domain in tags)
                score = min(0.98, max(0.02, 0.25 + 0.3 * quality + bias + rng.gauss(0, 0.025)))
                EvalResult.objects.create(job=job, benchmark=b, score=round(score, 4), n_items=200)

    for base_model in (smol, tiny):
        results(None, 0.2, base_model)
    datasets = {}
    for slug, name, size, tags, quality, source in DATASETS:
        ds = Dataset.objects.create(name=name, slug=slug, owner=alice if len(datasets) % 2 else bob,
                                    visibility="public", sample_count=size, status="ready", source_url=source,
                                    license="cc-by-nc-4.0" if len(datasets) % 3 == 0 else "apache-2.0",
                                    description=f"{name}: instruction-tuning data.")
        for tag in tags:
            ds.domains.add(Domain.objects.get_or_create(name=tag)[0])
        ds.domains_list = list(tags)
        results(ds, quality, smol)
        if len(datasets) < 5:
            results(ds, quality, tiny, seeds=2)
        for scorer, axis, reads, hib, spread in SCORERS:
            _aggregate(ds, scorer, axis, reads, hib, min(0.9, max(0.1, quality + rng.gauss(0, 0.12))), spread)
        datasets[slug] = ds
    secret = Dataset.objects.create(name="Secret in-house mix", slug="secret-mix", owner=alice, visibility="private",
                                    sample_count=5000, status="ready")
    secret.domains_list = []
    results(secret, 0.9, smol)
    datasets["secret-mix"] = secret

    def edge(child, parent, relation, origin="declared", confidence=1.0, evidence=""):
        LineageEdge.objects.create(child=datasets[child], parent=datasets[parent], relation=relation, origin=origin,
                                   confidence=confidence, evidence=evidence, created_by=alice)

    edge("openhermes-math", "metamathqa-40k", "subset", evidence="model card lists MetaMathQA")
    edge("openhermes-math", "alpaca-gpt4", "mixture")
    edge("evol-instruct-70k", "alpaca-gpt4", "evolution", evidence="Evol-Instruct rewrites Alpaca prompts")
    edge("openhermes-math", "evol-instruct-70k", "overlap", origin="inferred", confidence=0.82)
    edge("orca-math-200k", "metamathqa-40k", "overlap", origin="inferred", confidence=0.34)
    edge("ultrachat-200k", "sharegpt-unfiltered", "distillation", origin="inferred", confidence=0.61)
    edge("secret-mix", "openhermes-math", "subset")
    ContaminationFinding.objects.create(
        dataset=datasets["metamathqa-40k"], benchmark=benchmarks["gsm8k-mini"], status="done", ngram_size=13,
        items_total=200, items_contaminated=9, samples_total=40_000, samples_hitting=31, ratio=9 / 200,
    )
    return {"alice": alice, "bob": bob, "datasets": datasets, "benchmarks": benchmarks}

