"""Set-geometry scorers on hand-built unit vectors, VOCD-D and n-gram entropy on hand-checked texts."""
from __future__ import annotations

import math
import random

import numpy as np
import pytest

from arena.errors import InvalidInput
from scoring.scorers.base import SampleText, build_scorer
from scoring.scorers.set_geometry import (
    cluster_inertia,
    effective_rank,
    embedding_radius,
    facility_location_gap,
    logdet_per_sample,
    novelsum,
    scaled_nuclear_norm,
)
from scoring.scorers.vocd import vocd_curve, vocd_d

IDENTICAL = np.tile(np.array([[0.6, 0.8, 0.0]]), (6, 1))
ORTHOGONAL = np.eye(6)


def test_logdet_bounds_and_a_hand_value():
    assert logdet_per_sample(vectors=ORTHOGONAL) == pytest.approx(math.log(2), abs=1e-12)
    assert logdet_per_sample(vectors=IDENTICAL) == pytest.approx(math.log(7) / 6, abs=1e-12)  # eig(I + 11^T) = 7,1..
    rng = np.random.default_rng(0)
    tall = rng.normal(size=(50, 4))
    tall /= np.linalg.norm(tall, axis=1, keepdims=True)
    direct = np.linalg.slogdet(np.eye(50) + tall @ tall.T)[1] / 50  # the n x n definition
    assert logdet_per_sample(vectors=tall) == pytest.approx(direct, rel=1e-10)


def test_radius_by_hand():
    vectors = np.array([[1.0, 0.0], [0.0, 1.0]])  # per-dimension std 0.5 and 0.5
    assert embedding_radius(vectors=vectors) == (pytest.approx(0.5), 0)
    radius, zero = embedding_radius(vectors=IDENTICAL)
    assert radius == pytest.approx(1e-10) and zero == 3


def test_cluster_inertia_by_hand():
    two_points = np.array([[1.0, 0.0], [1.0, 0.0], [0.0, 1.0], [0.0, 1.0]])
    assert cluster_inertia(vectors=two_points, clusters=2, seed=0)[0] == pytest.approx(0.0, abs=1e-12)
    # one cluster: centroid (0.5, 0.5), every point at squared distance 0.5
    assert cluster_inertia(vectors=two_points, clusters=1, seed=0) == (pytest.approx(0.5), 1)


def test_facility_location_by_hand():
    assert facility_location_gap(vectors=IDENTICAL, exemplars=1, seed=0)[0] == pytest.approx(0.0, abs=1e-12)
    gap, chosen = facility_location_gap(vectors=ORTHOGONAL, exemplars=2, seed=0)
    assert gap == pytest.approx(1 - 2 / 6) and len(set(chosen)) == 2  # two exemplars cover only themselves
    groups = np.vstack([np.tile([1.0, 0.0], (3, 1)), np.tile([0.0, 1.0], (3, 1))])
    assert facility_location_gap(vectors=groups, exemplars=2, seed=0)[0] == pytest.approx(0.0, abs=1e-12)


def test_novelsum_by_brute_force():
    rng = np.random.default_rng(3)
    vectors = rng.normal(size=(9, 5))
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    distance = 1 - vectors @ vectors.T
    squared = ((vectors[:, None] - vectors[None]) ** 2).sum(-1)
    densities = np.array([1 / (np.sort(np.delete(squared[i], i))[:3].mean() + 1e-9) ** 0.5 for i in range(9)])
    densities /= densities.mean()
    expected = []
    for i in range(9):
        ranked = np.sort(distance[i] * densities[i])
        weights = 1 / np.arange(1, 10) ** 1.0
        expected.append((ranked * weights).sum() / weights.sum())
    value = novelsum(vectors=vectors, neighbors=3, density_power=0.5, distance_power=1.0)
    assert value == pytest.approx(np.mean(expected), rel=1e-6)
    assert novelsum(vectors=IDENTICAL, neighbors=3, density_power=0.5, distance_power=1.0) == pytest.approx(0, abs=1e-9)
    # a duplicated sample counts once when estimating density: duplicating the set leaves the densities unchanged
    doubled = np.vstack([vectors, vectors])
    assert novelsum(vectors=doubled, neighbors=3, density_power=0.5, distance_power=0.0) == pytest.approx(
        novelsum(vectors=vectors, neighbors=3, density_power=0.5, distance_power=0.0) * 1.0, rel=1e-9)


def test_effective_rank_and_nuclear_norm_by_hand():
    assert effective_rank(vectors=ORTHOGONAL) == pytest.approx(6.0)
    assert effective_rank(vectors=IDENTICAL) == pytest.approx(1.0)
    assert scaled_nuclear_norm(vectors=ORTHOGONAL) == pytest.approx(1.0)
    assert scaled_nuclear_norm(vectors=IDENTICAL) == pytest.approx(1 / math.sqrt(3))  # min(n, d) = 3
    # two equal groups of 3 orthogonal directions: singular values sqrt(2) x 3 -> erank 3
    doubled = np.vstack([np.eye(3), np.eye(3)])
    assert effective_rank(vectors=doubled) == pytest.approx(3.0)


def test_set_geometry_scorers_rank_a_diverse_set_above_a_repetitive_one():
    topics = ["How do I bake bread?", "What causes seasons?", "Reverse a list in Python.", "Who painted the Mona Lisa?",
              "Translate thank you into Japanese.", "How many legs does a spider have?"]
    diverse = [SampleText(idx=i, instruction=t, response="") for i, t in enumerate(topics)]
    repeated = [SampleText(idx=i, instruction=topics[0] if i % 2 else topics[0] + " Please.", response="")
                for i in range(6)]
    for name in ("logdet", "embedding_radius", "cluster_inertia", "facility_location", "novelsum",
                 "effective_rank", "embedding_nuclear_norm"):
        config = {"text": "q", "clusters": 2} if name == "cluster_inertia" else {"text": "q"}
        if name == "facility_location":
            config["exemplars"] = 2
        if name == "novelsum":
            config["neighbors"] = 2
        scorer = build_scorer(name, config=config)
        high, low = scorer.score_set([diverse])["value"], scorer.score_set([repeated])["value"]
        assert high > low, (name, high, low)
        assert 0.0 <= scorer.normalise(high) <= 1.0
        assert scorer.score_set([diverse[:1]])["value"] is None  # needs two samples


def test_set_geometry_bad_options():
    with pytest.raises(InvalidInput, match="exemplars must be an integer >= 1"):
        build_scorer("facility_location", config={"exemplars": 0})
    with pytest.raises(InvalidInput, match="density_power must be a number from 0.0 to 4.0"):
        build_scorer("novelsum", config={"density_power": -1})
    with pytest.raises(InvalidInput, match="clusters must be an integer"):
        build_scorer("cluster_inertia", config={"clusters": "many"})


# --- VOCD-D and n-gram entropy -------------------------------------------------------------------
def test_vocd_recovers_d_from_its_own_curve_and_tracks_monte_carlo():
    # the fit inverts the model: a curve generated for D=40 fits back to 40
    from scipy.optimize import minimize_scalar

    curve = {n: vocd_curve(size=n, d=40.0) for n in range(35, 51)}
    fit = minimize_scalar(lambda d: sum((curve[n] - vocd_curve(size=n, d=d)) ** 2 for n in curve),
                          bounds=(0.01, 1000), method="bounded")
    assert fit.x == pytest.approx(40.0, rel=1e-4)
    rng = random.Random(0)
    vocabulary = [f"w{i}" for i in range(60)]
    tokens = [rng.choice(vocabulary) for _ in range(200)]
    exact = vocd_d(tokens)
    # the original procedure: mean TTR of 100 random draws per size, then the same fit
    draws = {n: np.mean([len(set(rng.sample(tokens, n))) / n for _ in range(400)]) for n in range(35, 51)}
    monte_carlo = minimize_scalar(lambda d: sum((draws[n] - vocd_curve(size=n, d=d)) ** 2 for n in draws),
                                  bounds=(0.01, 1000), method="bounded").x
    assert exact == pytest.approx(monte_carlo, rel=0.05)
    assert vocd_d(tokens[:49]) is None
    assert vocd_d(["same"] * 60) < 1.0  # no diversity at all
    scorer = build_scorer("vocd_d")
    rich = " ".join(f"word{i}" for i in range(40)) + " " + " ".join(f"word{i}" for i in range(20))
    poor = " ".join(["alpha", "beta", "gamma"] * 20)
    rich_d, poor_d = scorer.score_batch([SampleText(idx=0, instruction="", response=t) for t in (rich, poor)])
    assert rich_d > poor_d


def test_ngram_entropy_by_hand():
    scorer = build_scorer("ngram_entropy")
    sample = SampleText(idx=0, instruction="", response="a b a b")  # bigrams: ab, ba, ab -> p = 2/3, 1/3
    expected = -(2 / 3) * math.log2(2 / 3) - (1 / 3) * math.log2(1 / 3)
    assert scorer.score_batch([sample]) == [pytest.approx(expected)]
    unigram = build_scorer("ngram_entropy", config={"n": 1}).score_batch([sample])
    assert unigram == [pytest.approx(1.0)]
    assert scorer.score_batch([SampleText(idx=0, instruction="", response="one")]) == [None]
    with pytest.raises(InvalidInput, match="'n' must be an integer from 1 to 8"):
        build_scorer("ngram_entropy", config={"n": 0})
