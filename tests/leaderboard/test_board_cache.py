"""The shared board cache: per-base-model invalidation and the incremental update giving the full computation's
numbers."""
from __future__ import annotations

import numpy as np
import pytest

from arena.models import Dataset
from training.leaderboard import cache as board_cache
from training.leaderboard.compute import board_compute
from training.models import BaseModel, EvalResult, Job

BLOCK_FIELDS = ("values", "bench_means", "n_seeds", "weights", "scores", "ci_low", "ci_high", "iqm")


def assert_same_board(a, b):
    assert a.dataset_ids.tolist() == b.dataset_ids.tolist()
    assert [c.slug for c in a.benchmarks] == [c.slug for c in b.benchmarks]
    for name in BLOCK_FIELDS:
        x, y = getattr(a.datasets, name), getattr(b.datasets, name)
        if name == "values":  # NaN padding may be wider after an update: compare the seeds present
            k = min(x.shape[2], y.shape[2])
            assert np.isnan(x[:, :, k:]).all() and np.isnan(y[:, :, k:]).all()
            x, y = x[:, :, :k], y[:, :, :k]
        np.testing.assert_array_equal(x, y, err_msg=name)
    np.testing.assert_array_equal(a.reference_on_coverage, b.reference_on_coverage)


def engine_results(board, dataset, scores: dict[str, list[float]], *, base_model: str = "tiny") -> None:
    """Jobs that succeed with their results written in one bulk insert, as the training engine does."""
    for seed in range(max(len(v) for v in scores.values())):
        job = Job.objects.create(dataset=dataset, base_model=board.base_model(base_model), seed=seed,
                                 status=Job.Status.SUCCEEDED)
        EvalResult.objects.bulk_create([EvalResult(job=job, benchmark=board.benchmarks[slug], score=v[seed], n_items=10)
                                        for slug, v in scores.items() if seed < len(v)])


def _second_base_model(board, user):
    board.results(None, {"g1": [0.3], "g2": [0.3], "m1": [0.3]}, base_model="other")
    board.results(Dataset.objects.get(slug="alpha"), {"g1": [0.5, 0.6], "g2": [0.6, 0.6], "m1": [0.1, 0.2]},
                  base_model="other")


def test_a_new_result_updates_only_what_changed_and_matches_the_full_computation(small_board, other_user,
                                                                                 monkeypatch):
    tiny = BaseModel.objects.get(slug="tiny")
    board_cache.board_get(base_model=tiny)
    beta = Dataset.objects.get(slug="beta")
    engine_results(small_board, beta, {"g1": [0.9, 0.8, 0.7], "g2": [0.1, 0.2, 0.3], "m1": [0.5, 0.5, 0.6]})

    read = []
    from training.leaderboard import compute

    real = compute._seed_scores

    def spy(**kwargs):
        read.append(kwargs.get("dataset_ids"))
        return real(**kwargs)

    monkeypatch.setattr(compute, "_seed_scores", spy)
    updated = board_cache.board_get(base_model=tiny)
    assert read == [[beta.pk]]  # only the changed dataset was read again
    monkeypatch.setattr(compute, "_seed_scores", real)
    assert_same_board(updated, board_compute(base_model=tiny))


def test_a_dataset_losing_its_jobs_leaves_the_updated_board(small_board, other_user):
    tiny = BaseModel.objects.get(slug="tiny")
    board_cache.board_get(base_model=tiny)
    Job.objects.filter(dataset__slug="beta").update(status=Job.Status.FAILED)
    updated = board_cache.board_get(base_model=tiny)
    assert Dataset.objects.get(slug="beta").pk not in updated.dataset_ids.tolist()
    assert_same_board(updated, board_compute(base_model=tiny))


def test_results_of_one_base_model_leave_the_others_board_cached(small_board, user, other_user):
    _second_base_model(small_board, user)
    tiny, other = BaseModel.objects.get(slug="tiny"), BaseModel.objects.get(slug="other")
    tiny_board = board_cache.board_get(base_model=tiny)
    other_board = board_cache.board_get(base_model=other)
    engine_results(small_board, Dataset.objects.get(slug="beta"), {"g1": [0.2, 0.2], "g2": [0.2], "m1": [0.2, 0.2]},
                   base_model="other")
    assert board_cache.board_get(base_model=tiny) is tiny_board  # same stamp: not recomputed, not reloaded
    assert board_cache.board_get(base_model=other) is not other_board


def test_a_result_saved_on_an_existing_job_invalidates_its_base_model_only(small_board, user, other_user):
    _second_base_model(small_board, user)
    tiny, other = BaseModel.objects.get(slug="tiny"), BaseModel.objects.get(slug="other")
    tiny_board = board_cache.board_get(base_model=tiny)
    other_board = board_cache.board_get(base_model=other)
    result = EvalResult.objects.get(job__base_model=tiny, job__dataset__slug="beta", job__seed=0,
                                    benchmark__slug="g1")
    result.score = 1.0
    result.save()
    fresh = board_cache.board_get(base_model=tiny)
    assert fresh is not tiny_board
    beta = fresh.index_of()[Dataset.objects.get(slug="beta").pk]
    g1 = [b.slug for b in fresh.benchmarks].index("g1")
    assert fresh.datasets.bench_means[beta, g1] == pytest.approx(0.7)  # (1.0 + 0.4) / 2
    assert board_cache.board_get(base_model=other) is other_board


def test_the_board_is_shared_through_the_cache(small_board, other_user, monkeypatch):
    tiny = BaseModel.objects.get(slug="tiny")
    board_cache.board_get(base_model=tiny)
    board_cache._memo.clear()  # another process: nothing in memory, the board comes from the shared cache
    from training.leaderboard import compute

    monkeypatch.setattr(compute, "board_compute", lambda **kw: pytest.fail("recomputed"))
    monkeypatch.setattr(compute, "board_update", lambda **kw: pytest.fail("recomputed"))
    assert board_cache.board_get(base_model=tiny).dataset_ids.size == 3


def test_incremental_updates_match_the_full_computation_on_a_random_board(board, user, monkeypatch):
    """Partial coverage, 1-3 seeds, several rounds of new jobs (more seeds, new datasets, a failed job): after
    every round the updated board has exactly the numbers of a full computation."""
    rng = np.random.default_rng(7)
    slugs = [(f"b{j}", ("general", "math", "code", "reasoning")[j % 4]) for j in range(8)]
    for slug, domain in slugs:
        board.benchmark(slug, domain)
    board.results(None, {s: [0.3 + 0.01 * j] for j, (s, _) in enumerate(slugs)})
    tiny = BaseModel.objects.get(slug="tiny")

    def random_scores():
        chosen = [s for s, _ in slugs if rng.random() < 0.7] or [slugs[0][0]]
        return {s: rng.uniform(0.1, 0.9, size=int(rng.integers(1, 4))).round(4).tolist() for s in chosen}

    datasets = [board.dataset(f"ds-{i}", owner=user) for i in range(12)]
    for ds in datasets:
        engine_results(board, ds, random_scores())
    board_cache.board_get(base_model=tiny)
    for round_no in range(3):
        for ds in rng.choice(datasets, size=3, replace=False):
            engine_results(board, ds, random_scores())
        datasets.append(board.dataset(f"new-{round_no}", owner=user))
        engine_results(board, datasets[-1], random_scores())
        Job.objects.filter(dataset=datasets[round_no]).update(status=Job.Status.FAILED)
        from training.leaderboard import compute

        with monkeypatch.context() as patched:  # the update path, never the full computation
            patched.setattr(compute, "board_compute", lambda **kw: pytest.fail("fell back to a full computation"))
            updated = board_cache.board_get(base_model=tiny)
        assert_same_board(updated, board_compute(base_model=tiny))
