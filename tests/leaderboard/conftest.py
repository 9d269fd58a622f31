"""Builders for leaderboard tests: datasets, base models, benchmarks, jobs and results, made directly."""
from __future__ import annotations

import pytest
from django.core.cache import cache

from arena.models import Dataset, Domain
from training.models import BaseModel, Benchmark, EvalResult, Job


@pytest.fixture(autouse=True)
def _clear_cache():
    cache.clear()
    yield
    cache.clear()


class BoardBuilder:
    def __init__(self):
        self.base_models: dict[str, BaseModel] = {}
        self.benchmarks: dict[str, Benchmark] = {}

    def base_model(self, slug: str = "tiny") -> BaseModel:
        if slug not in self.base_models:
            self.base_models[slug] = BaseModel.objects.create(name=slug.title(), slug=slug, path="tiny:{}")
        return self.base_models[slug]

    def benchmark(self, slug: str, domain: str) -> Benchmark:
        if slug not in self.benchmarks:
            self.benchmarks[slug] = Benchmark.objects.create(
                name=slug.upper(), slug=slug, domain=domain, kind="generation", metric="exact_match",
                items_file=f"bench/{slug}.jsonl",
            )
        return self.benchmarks[slug]

    def dataset(self, slug: str, *, owner, sample_count: int | None = 1000, visibility: str = "public",
                tags: tuple[str, ...] = ()) -> Dataset:
        ds = Dataset.objects.create(name=slug.replace("-", " ").title(), slug=slug, owner=owner,
                                    visibility=visibility, sample_count=sample_count, status="ready")
        for tag in tags:
            ds.domains.add(Domain.objects.get_or_create(name=tag)[0])
        return ds

    def results(self, dataset: Dataset | None, scores: dict[str, list[float]], *, base_model: str = "tiny",
                status: str = Job.Status.SUCCEEDED) -> list[Job]:
        """``scores[benchmark_slug]`` lists one score per seed (seed = position)."""
        n_seeds = max(len(v) for v in scores.values())
        jobs = []
        for seed in range(n_seeds):
            job = Job.objects.create(dataset=dataset, base_model=self.base_model(base_model), seed=seed, status=status)
            for slug, values in scores.items():
                if seed < len(values):
                    EvalResult.objects.create(job=job, benchmark=self.benchmarks[slug], score=values[seed], n_items=10)
            jobs.append(job)
        return jobs


@pytest.fixture
def board(db):
    return BoardBuilder()


@pytest.fixture
def small_board(board, user, other_user):
    """The hand-computed case used across tests (see test_leaderboard_math)."""
    board.base_model("tiny")
    board.benchmark("g1", "general")
    board.benchmark("g2", "general")
    board.benchmark("m1", "math")
    board.results(None, {"g1": [0.40], "g2": [0.50], "m1": [0.20]})
    a = board.dataset("alpha", owner=user, sample_count=2000, tags=("general", "math"))
    b = board.dataset("beta", owner=user, sample_count=500, tags=("general",))
    c = board.dataset("secret", owner=user, sample_count=100, visibility="private", tags=("code",))
    board.results(a, {"g1": [0.50, 0.60], "g2": [0.70, 0.70], "m1": [0.30, 0.40]})
    board.results(a, {"g1": [0.0], "g2": [0.0], "m1": [0.0]}, status=Job.Status.FAILED)  # must not count
    board.results(b, {"g1": [0.40, 0.40], "g2": [0.50, 0.50], "m1": [0.20, 0.20]})
    board.results(c, {"g1": [0.90, 0.95], "g2": [0.90, 0.90], "m1": [0.90, 0.90]})
    return board


def _aggregate(dataset, scorer: str, mean: float, histogram=None):
    from scoring.models import ScoreAggregate, ScoringRun

    run = ScoringRun.objects.create(dataset=dataset, scorers=[scorer], status="succeeded")
    return ScoreAggregate.objects.create(
        dataset=dataset, run=run, scorer=scorer, scorer_version="1", config_hash="c0", axis="quality", reads="QA",
        count=10, mean=mean, median=mean, p10=mean, p90=mean, norm_mean=mean, histogram=histogram or [1] * 20,
    )


@pytest.fixture
def scored_board(board, user):
    board.base_model("tiny")
    board.benchmark("g1", "general")
    board.results(None, {"g1": [0.30]})
    # deltas .1 .2 .3 .4 ; scorer "up" rises with them, "down" falls, "private" only on a private dataset
    for i, delta in enumerate([0.1, 0.2, 0.3, 0.4]):
        ds = board.dataset(f"d{i}", owner=user)
        board.results(ds, {"g1": [0.30 + delta, 0.30 + delta]})
        _aggregate(ds, "up", mean=float(i))
        _aggregate(ds, "down", mean=float(-i))
    hidden = board.dataset("hidden", owner=user, visibility="private")
    board.results(hidden, {"g1": [0.9, 0.9]})
    _aggregate(hidden, "up", mean=-100.0)  # would break the perfect correlation if it were counted
    return board
