"""The statistics helpers against hand-computed values."""
from __future__ import annotations

import numpy as np
import pytest
from scipy import stats as sp_stats

from training.leaderboard import stats


def test_iqm_drops_the_outer_quartiles():
    # 8 values: int(0.25 * 8) = 2 cut from each end -> mean(0.3, 0.4, 0.5, 0.6) = 0.45
    assert stats.iqm([0.8, 0.1, 0.7, 0.2, 0.6, 0.3, 0.5, 0.4]) == pytest.approx(0.45)
    # 6 values: int(1.5) = 1 cut from each end -> mean(0.4, 0.5, 0.6, 0.7) = 0.55
    assert stats.iqm([0.5, 0.6, 0.7, 0.7, 0.3, 0.4]) == pytest.approx(0.55)
    # an outlier does not move it
    assert stats.iqm([0.5, 0.5, 0.5, 100.0]) == pytest.approx(0.5)


def test_iqm_rows_matches_scipy_trim_mean_with_missing_values():
    rng = np.random.default_rng(3)
    data = rng.random((20, 9))
    data[rng.random((20, 9)) < 0.3] = np.nan
    data[0] = np.nan
    got = stats.iqm_rows(data)
    assert np.isnan(got[0])
    for i in range(1, 20):
        row = data[i][np.isfinite(data[i])]
        assert got[i] == pytest.approx(sp_stats.trim_mean(row, 0.25))


def test_rank_with_ties_counts_intervals_strictly_above():
    #            A: [.50, .60]  B: [.55, .70]  C: [.20, .30]  D: [.61, .65]
    lower = np.array([0.50, 0.55, 0.20, 0.61])
    upper = np.array([0.60, 0.70, 0.30, 0.65])
    # A: only D's lower (.61) is above A's upper (.60) -> 2; B: none -> 1; C: A, B, D -> 4; D: none -> 1
    assert stats.rank_with_ties(lower, upper).tolist() == [2, 1, 4, 1]


def test_probability_of_improvement_by_hand():
    # benchmark 1: pairs (1,2)<, (1,0)>, (2,2)=, (2,0)> -> (2 + 0.5) / 4 = 0.625; benchmark 2: tie -> 0.5
    x = [[1.0, 2.0], [3.0]]
    y = [[2.0, 0.0], [3.0]]
    assert stats.probability_of_improvement(x, y) == pytest.approx(0.5625)
    assert stats.probability_of_improvement(y, x) == pytest.approx(1 - 0.5625)
    # a benchmark one side lacks is skipped
    assert stats.probability_of_improvement([[1.0], [np.nan]], [[0.0], [5.0]]) == 1.0


def _seeds(n_seeds: int) -> np.ndarray:
    # 3 benchmarks, seeds alternate around each benchmark's mean: means 0.5, 0.3, 0.8
    offsets = np.array([0.1 if s % 2 == 0 else -0.1 for s in range(n_seeds)])
    return np.stack([0.5 + offsets, 0.3 + offsets, 0.8 + offsets])[None, :, :]


def test_bootstrap_is_deterministic_contains_the_mean_and_narrows_with_more_seeds():
    weights = np.full((1, 3), 1 / 3)
    widths = {}
    for n_seeds in (2, 4, 10):
        values = _seeds(n_seeds)
        first = stats.stratified_bootstrap(values=values, weights=weights)
        again = stats.stratified_bootstrap(values=values, weights=weights)
        np.testing.assert_array_equal(first, again)
        lo, hi = stats.percentile_interval(first)
        mean = float((weights[0] * values[0].mean(axis=1)).sum())
        assert lo[0] <= mean <= hi[0]
        assert first.mean() == pytest.approx(mean, abs=0.01)  # the bootstrap is centred on the estimate
        widths[n_seeds] = hi[0] - lo[0]
    assert widths[2] > widths[4] > widths[10] > 0


def test_bootstrap_of_a_dataset_does_not_depend_on_the_batch():
    alone = _seeds(4)
    other = np.full((1, 3, 4), 0.2)
    other[0, 1, 2:] = np.nan  # a benchmark with only two seeds
    weights = np.full((1, 3), 1 / 3)
    single = stats.stratified_bootstrap(values=alone, weights=weights)
    batch = stats.stratified_bootstrap(values=np.concatenate([other, alone]), weights=np.vstack([weights, weights]))
    np.testing.assert_allclose(batch[1], single[0])


def test_single_seed_gives_a_degenerate_interval():
    values = np.array([[[0.4], [0.6]]])
    samples = stats.stratified_bootstrap(values=values, weights=np.array([[0.5, 0.5]]))
    lo, hi = stats.percentile_interval(samples)
    assert lo[0] == pytest.approx(0.5) and hi[0] == pytest.approx(0.5)


def test_per_benchmark_bootstrap_matches_the_stratified_one_for_one_benchmark():
    values = _seeds(4)
    per = stats.per_benchmark_bootstrap(values=values)
    one = stats.stratified_bootstrap(values=values, weights=np.array([[0.0, 1.0, 0.0]]))
    np.testing.assert_allclose(per[0, 1], one[0])


def test_spearman_with_ci():
    x = [1, 2, 3, 4, 5, 6, 7, 8]
    result = stats.spearman_with_ci(x, [v * 2 + 1 for v in x])
    assert result["rho"] == pytest.approx(1.0) and result["ci_low"] == pytest.approx(1.0)
    noisy = stats.spearman_with_ci(x, [2, 1, 4, 3, 6, 5, 8, 7])
    assert noisy["ci_low"] < noisy["rho"] < 1.0
    assert noisy == stats.spearman_with_ci(x, [2, 1, 4, 3, 6, 5, 8, 7])  # fixed seed
    assert stats.spearman_with_ci([1, 2], [1, 2])["rho"] is None  # too few pairs: no number, not a made-up one


def test_multi_aggregate_intervals_match_the_single_aggregate_bootstrap():
    rng = np.random.default_rng(5)
    values = rng.random((300, 4, 3))  # more datasets than one chunk
    values[0, 2, 1:] = np.nan  # a benchmark with one seed
    values[1, 3, 2] = np.nan  # and one with two
    weights = np.zeros((300, 2, 4))
    weights[:, 0, :] = 0.25
    weights[:, 1, :2] = 0.5
    low, high = stats.stratified_bootstrap_intervals(values=values, weights=weights)
    for a in range(2):
        lo, hi = stats.percentile_interval(stats.stratified_bootstrap(values=values, weights=weights[:, a, :]))
        np.testing.assert_allclose(low[:, a], lo)
        np.testing.assert_allclose(high[:, a], hi)
