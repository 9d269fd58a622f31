"""Set-level diversity scorers: Vendi score, mean pairwise similarity, cluster entropy."""
from __future__ import annotations

import math

import numpy as np
import pytest

from arena.errors import InvalidInput
from scoring.scorers.base import SampleText, build_scorer, normalise_value
from scoring.scorers.setwise import mean_pairwise_similarity, reservoir_sample, vendi_from_embeddings

TOPICS = [
    "How do I bake sourdough bread at home?",
    "What causes the seasons on Earth?",
    "Write a Python function that reverses a list.",
    "Who painted the Mona Lisa?",
    "Translate 'thank you' into Japanese.",
    "How many legs does a spider have?",
]


def _unit_rows(matrix: np.ndarray) -> np.ndarray:
    return matrix / np.linalg.norm(matrix, axis=1, keepdims=True)


def test_vendi_of_identical_items_is_one_and_of_orthogonal_items_is_n():
    identical = np.tile(_unit_rows(np.array([[1.0, 2.0, 3.0]])), (10, 1))
    assert vendi_from_embeddings(vectors=identical) == pytest.approx(1.0, abs=1e-9)
    assert vendi_from_embeddings(vectors=np.eye(7)) == pytest.approx(7.0, abs=1e-9)
    two_groups = np.vstack([np.tile([1.0, 0.0], (5, 1)), np.tile([0.0, 1.0], (5, 1))])
    assert vendi_from_embeddings(vectors=two_groups) == pytest.approx(2.0, abs=1e-9)


def test_vendi_uses_the_small_gram_matrix_exactly():
    rng = np.random.default_rng(1)
    tall = _unit_rows(rng.normal(size=(300, 12)))  # n > d: computed from the d x d matrix
    kernel = tall @ tall.T / 300  # the definition: eigenvalues of K/n
    eigenvalues = np.clip(np.linalg.eigvalsh(kernel), 0, None)
    eigenvalues = eigenvalues[eigenvalues > 1e-12]
    expected = math.exp(-(eigenvalues * np.log(eigenvalues)).sum())
    assert vendi_from_embeddings(vectors=tall) == pytest.approx(expected, rel=1e-9)
    assert vendi_from_embeddings(vectors=tall) <= 12 + 1e-9  # never above the embedding dimension


def test_mean_pairwise_similarity_equals_brute_force():
    rng = np.random.default_rng(2)
    vectors = _unit_rows(rng.normal(size=(40, 6)))
    sims = vectors @ vectors.T
    expected = (sims.sum() - np.trace(sims)) / (40 * 39)
    assert mean_pairwise_similarity(vectors=vectors) == pytest.approx(expected, abs=1e-12)


def test_reservoir_sample_is_deterministic_uniform_and_bounded():
    samples = [SampleText(idx=i, instruction=str(i), response="") for i in range(20)]
    batches = [samples[:7], samples[7:15], samples[15:]]
    first, n = reservoir_sample(batches=batches, size=5, seed=3)
    again, _ = reservoir_sample(batches=batches, size=5, seed=3)
    assert n == 20 and len(first) == 5 and [s.idx for s in first] == [s.idx for s in again]
    assert [s.idx for s in first] == sorted(s.idx for s in first)  # file order is kept
    everything, n_all = reservoir_sample(batches=batches, size=0, seed=3)
    assert n_all == 20 and [s.idx for s in everything] == list(range(20))
    counts = np.zeros(20)
    for seed in range(2000):
        for sample in reservoir_sample(batches=batches, size=5, seed=seed)[0]:
            counts[sample.idx] += 1
    assert np.all(np.abs(counts / 2000 - 0.25) < 0.05)  # each item is kept with probability size/n


def _batches(texts: list[str]) -> list[list[SampleText]]:
    samples = [SampleText(idx=i, instruction=t, response="") for i, t in enumerate(texts)]
    return [samples[: len(samples) // 2], samples[len(samples) // 2 :]]


def test_vendi_scorer_on_real_embeddings():
    scorer = build_scorer("vendi_score", config={"text": "q"})
    same = scorer.score_set(_batches([TOPICS[0]] * 6))
    assert same["value"] == pytest.approx(1.0, abs=1e-3)
    assert same["n"] == 6 and same["sampled"] is False
    varied = scorer.score_set(_batches(TOPICS))
    assert 2.0 < varied["value"] <= 6.0
    sampled = build_scorer("vendi_score", config={"text": "q", "sample_size": 4, "seed": 1}).score_set(_batches(TOPICS))
    assert sampled["sampled"] is True and sampled["n"] == 6 and sampled["n_used"] == 4 and sampled["seed"] == 1
    assert 1.0 < sampled["value"] <= 4.0
    assert normalise_value(scorer.meta, varied["value"]) > normalise_value(scorer.meta, same["value"]) == 0.0


def test_avg_pairwise_similarity_scorer():
    scorer = build_scorer("avg_pairwise_similarity", config={"text": "q"})
    assert scorer.score_set(_batches([TOPICS[2]] * 4))["value"] == pytest.approx(1.0, abs=1e-4)
    varied = scorer.score_set(_batches(TOPICS))["value"]
    assert -0.2 < varied < 0.5
    assert scorer.normalise(varied) > scorer.normalise(1.0)  # lower similarity is better


def test_cluster_entropy_scorer():
    group_a = [f"Recipe for chocolate cake number {i}" for i in range(5)]
    group_b = [f"Proof that there are infinitely many primes, version {i}" for i in range(5)]
    scorer = build_scorer("cluster_entropy", config={"text": "q", "clusters": 2})
    result = scorer.score_set(_batches(group_a + group_b))
    assert result["value"] == pytest.approx(1.0, abs=1e-9)  # two equal topics -> even split
    assert result["cluster_sizes"] == [5, 5] and result["clusters"] == 2
    skewed = scorer.score_set(_batches(group_a + group_b[:1]))
    expected = -(5 / 6 * math.log(5 / 6) + 1 / 6 * math.log(1 / 6)) / math.log(2)
    assert skewed["value"] == pytest.approx(expected, abs=1e-9)
    again = scorer.score_set(_batches(group_a + group_b[:1]))
    assert again == skewed  # fixed seed: reproducible


def test_setwise_edge_cases_and_bad_config():
    result = build_scorer("vendi_score").score_set([[SampleText(idx=0, instruction="q", response="a")]])
    assert result["value"] is None and result["n"] == 1 and "at least 2" in result["reason"]
    with pytest.raises(InvalidInput, match="sample_size must be an integer >= 0"):
        build_scorer("vendi_score", config={"sample_size": -1})
    with pytest.raises(InvalidInput, match="clusters must be at least 2"):
        build_scorer("cluster_entropy", config={"clusters": 1})
    with pytest.raises(InvalidInput, match="does not accept option.*k"):
        build_scorer("avg_pairwise_similarity", config={"k": 3})
    with pytest.raises(InvalidInput, match="model path .*embedder.* does not exist"):
        build_scorer("vendi_score", config={"embedder_path": "/nonexistent/embedder"})
