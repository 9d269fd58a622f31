"""The leaderboard selector on a small board, against values computed by hand.

Reference (base model, one seed): g1 .40, g2 .50, m1 .20 -> general .45, math .20, overall .325.
alpha (2000 samples, 2 seeds): g1 [.50 .60] -> .55, g2 [.70 .70] -> .70, m1 [.30 .40] -> .35
    general (.55 + .70) / 2 = .625, math .35, overall (.625 + .35) / 2 = .4875
    delta .4875 - .325 = .1625, efficiency .1625 / (2000 / 1000) = .08125
    IQM over the 6 seed scores [.3 .4 .5 .6 .7 .7]: cut 1 each end -> mean(.4 .5 .6 .7) = .55
beta (500 samples, 2 identical seeds = the reference): overall .325, delta 0, interval [.325, .325]
    alpha's lowest possible resample is (.5 + .7) / 2 = .6 general and .3 math -> .45 > .325, so beta ranks 2.
A failed job of alpha with zeros must not count; 'secret' is private to alice.
"""
from __future__ import annotations

import pytest

from arena.errors import InvalidInput, NotFound
from frontend import composition
from training.leaderboard import selectors
from training.leaderboard.selectors import LeaderboardFilters


def _row(lb, slug):
    return next(r for r in lb.rows if r["dataset"] == slug)


def test_overall_view_by_hand(small_board, other_user):
    lb = selectors.leaderboard_get(viewer=other_user, base_model="tiny")
    assert [r["dataset"] for r in lb.rows] == ["alpha", "beta"]  # secret is alice's private dataset
    alpha, beta = _row(lb, "alpha"), _row(lb, "beta")
    assert alpha["benchmarks"] == pytest.approx({"g1": 0.55, "g2": 0.70, "m1": 0.35})
    assert alpha["domain_scores"]["general"] == pytest.approx(0.625)
    assert alpha["domain_scores"]["math"] == pytest.approx(0.35)
    assert alpha["domain_scores"]["code"] is None
    assert alpha["score"] == pytest.approx(0.4875)
    assert alpha["delta"] == pytest.approx(0.1625)
    assert alpha["efficiency"] == pytest.approx(0.08125)
    assert alpha["iqm"] == pytest.approx(0.55)
    assert alpha["n_seeds"] == 2 and alpha["coverage"] == 1.0
    assert alpha["ci_low"] <= alpha["score"] <= alpha["ci_high"]
    assert alpha["ci_low"] >= 0.45 - 1e-9  # lowest possible resample
    assert alpha["delta_ci_low"] == pytest.approx(alpha["ci_low"] - 0.325)
    assert beta["score"] == pytest.approx(0.325) and beta["delta"] == pytest.approx(0.0)
    assert beta["ci_low"] == pytest.approx(0.325) and beta["ci_high"] == pytest.approx(0.325)
    assert beta["efficiency"] == pytest.approx(0.0)
    assert (alpha["rank"], beta["rank"]) == (1, 2)
    ref = lb.reference
    assert ref["is_reference"] and ref["rank"] is None
    assert ref["score"] == pytest.approx(0.325)
    assert ref["domain_scores"]["general"] == pytest.approx(0.45)
    assert [b["slug"] for b in lb.benchmarks] == ["g1", "g2", "m1"]


def test_domain_view_by_hand(small_board, other_user):
    lb = selectors.leaderboard_get(viewer=other_user, base_model="tiny", domain="math")
    assert [b["slug"] for b in lb.benchmarks] == ["m1"]
    alpha = _row(lb, "alpha")
    assert alpha["score"] == pytest.approx(0.35)
    assert alpha["delta"] == pytest.approx(0.15)
    assert alpha["iqm"] == pytest.approx(0.35)  # [.3 .4]: nothing cut
    assert alpha["benchmarks"] == pytest.approx({"m1": 0.35})
    assert lb.reference["score"] == pytest.approx(0.20)
    assert selectors.leaderboard_get(viewer=other_user, base_model="tiny", domain="code").rows == []


def test_the_owner_sees_their_private_dataset_and_ranks_change_with_it(small_board, user, other_user):
    lb = selectors.leaderboard_get(viewer=user, base_model="tiny")
    assert [r["dataset"] for r in lb.rows] == ["secret", "alpha", "beta"]
    assert [r["rank"] for r in lb.rows] == [1, 2, 3]
    # another viewer's ranks are computed without it
    assert [r["rank"] for r in selectors.leaderboard_get(viewer=other_user, base_model="tiny").rows] == [1, 2]


def test_overlapping_intervals_share_a_rank(board, user):
    board.base_model("tiny")
    board.benchmark("g1", "general")
    one = board.dataset("one", owner=user)
    two = board.dataset("two", owner=user)
    board.results(one, {"g1": [0.4, 0.6]})
    board.results(two, {"g1": [0.5, 0.7]})
    lb = selectors.leaderboard_get(viewer=user, base_model="tiny")
    assert [(r["dataset"], r["rank"]) for r in lb.rows] == [("two", 1), ("one", 1)]
    assert lb.reference is None and lb.rows[0]["delta"] is None  # no reference run: no delta, not a zero


def test_filters_hide_rows_without_changing_ranks(small_board, other_user):
    def slugs(**kw):
        lb = selectors.leaderboard_get(viewer=other_user, base_model="tiny", filters=LeaderboardFilters(**kw))
        return [(r["dataset"], r["rank"]) for r in lb.rows]

    assert slugs(search="BET") == [("beta", 2)]
    assert slugs(domains=("math",)) == [("alpha", 1)]
    assert slugs(domains=("general",), domain_match="any") == [("alpha", 1), ("beta", 2)]
    assert slugs(domains=("general",), domain_match="exact") == [("beta", 2)]
    assert slugs(size_min=1000) == [("alpha", 1)]
    assert slugs(size_max=1000) == [("beta", 2)]
    year = selectors.leaderboard_get(viewer=other_user, base_model="tiny").rows[0]["year"]
    assert slugs(year=year) == [("alpha", 1), ("beta", 2)]
    assert slugs(year=year - 1) == []


def test_new_results_invalidate_the_cached_board(small_board, other_user):
    assert selectors.leaderboard_get(viewer=other_user, base_model="tiny").rows[1]["score"] == pytest.approx(0.325)
    from arena.models import Dataset

    small_board.results(Dataset.objects.get(slug="beta"), {"g1": [1.0, 1.0, 1.0, 1.0]})  # seeds 0..3 of g1
    row = _row(selectors.leaderboard_get(viewer=other_user, base_model="tiny"), "beta")
    # g1 now has seeds [.4 .4 1 1 1 1] -> .8; general (.8 + .5) / 2 = .65; overall (.65 + .2) / 2 = .425
    assert row["score"] == pytest.approx(0.425)


def test_bad_parameters_fail_loudly(small_board, other_user):
    with pytest.raises(InvalidInput, match="base_model is required"):
        selectors.leaderboard_get(viewer=other_user, base_model="")
    with pytest.raises(NotFound):
        selectors.leaderboard_get(viewer=other_user, base_model="nope")
    with pytest.raises(InvalidInput, match="unknown domain"):
        selectors.leaderboard_get(viewer=other_user, base_model="tiny", domain="poetry")


def test_compare_by_hand(small_board, other_user):
    data = composition.leaderboard_compare(viewer=other_user, datasets=["alpha", "beta"])
    (entry,) = data["base_models"]
    assert [r["dataset"] for r in entry["rows"]] == ["alpha", "beta"]
    lb = selectors.leaderboard_get(viewer=other_user, base_model="tiny")
    assert entry["rows"] == lb.rows  # the same numbers as the leaderboard
    g1 = next(b for b in entry["benchmarks"] if b["slug"] == "g1")
    assert g1["datasets"]["alpha"]["mean"] == pytest.approx(0.55)
    assert 0.5 <= g1["datasets"]["alpha"]["ci_low"] <= 0.55 <= g1["datasets"]["alpha"]["ci_high"] <= 0.6
    assert g1["reference"] == pytest.approx(0.40)
    # alpha beats beta on every seed pair of every benchmark
    assert entry["p_better"] == {"alpha": {"beta": 1.0}, "beta": {"alpha": 0.0}}
    with pytest.raises(NotFound):
        composition.leaderboard_compare(viewer=other_user, datasets=["alpha", "secret"])
    with pytest.raises(InvalidInput):
        composition.leaderboard_compare(viewer=other_user, datasets=["alpha"])


def test_base_model_with_only_a_reference_or_nothing(board, user):
    board.base_model("solo")
    board.base_model("empty")
    board.benchmark("g1", "general")
    board.results(None, {"g1": [0.3, 0.5]}, base_model="solo")
    lb = selectors.leaderboard_get(viewer=user, base_model="solo")
    assert lb.rows == [] and lb.reference["score"] == pytest.approx(0.4)
    assert lb.reference["ci_low"] <= 0.4 <= lb.reference["ci_high"]
    empty = selectors.leaderboard_get(viewer=user, base_model="empty")
    assert empty.rows == [] and empty.reference is None and empty.benchmarks == []
    assert [bm.slug for bm in selectors.leaderboard_base_models()] == ["solo"]


def test_partial_coverage_delta_uses_the_same_benchmarks(board, user):
    """partial: only g1 (.6) -> general .6, overall .6; the reference on g1 alone is .4 -> delta .2, coverage 1/3."""
    board.base_model("tiny")
    board.benchmark("g1", "general")
    board.benchmark("g2", "general")
    board.benchmark("m1", "math")
    board.results(None, {"g1": [0.4], "g2": [0.6], "m1": [0.2]})
    partial = board.dataset("partial", owner=user)
    board.results(partial, {"g1": [0.6]})
    row = selectors.leaderboard_get(viewer=user, base_model="tiny").rows[0]
    assert row["score"] == pytest.approx(0.6)
    assert row["delta"] == pytest.approx(0.2)
    assert row["coverage"] == pytest.approx(1 / 3)
    assert row["domain_scores"]["math"] is None


def test_a_job_leaving_succeeded_invalidates_the_cached_board(small_board, other_user):
    from training.models import Job

    assert [r["dataset"] for r in selectors.leaderboard_get(viewer=other_user, base_model="tiny").rows] == [
        "alpha", "beta"]
    Job.objects.filter(dataset__slug="beta").update(status=Job.Status.FAILED)
    assert [r["dataset"] for r in selectors.leaderboard_get(viewer=other_user, base_model="tiny").rows] == ["alpha"]
