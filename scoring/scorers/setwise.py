"""Set-level diversity scorers: one value per dataset, from sentence embeddings of its samples.

When a dataset has more than ``sample_size`` samples (default 10,000; 0 = all), a uniform sample of that many is
drawn in one streaming pass (reservoir sampling, Algorithm R, with a fixed seed: the same file always gives the same
sample) and only the sample is embedded; the result says so (``sampled``, ``n``, ``n_used``, ``seed``).

* ``vendi_score`` (Friedman & Dieng, 2023): exp of the Shannon entropy of the eigenvalues of K/n, K the cosine
  similarity matrix. It lies in [1, min(n, d)]: 1 when all items are the same, n for n orthogonal items, and never
  above the embedding dimension d (384 for all-MiniLM-L6-v2), because K = X X^T has rank <= d. The non-zero
  eigenvalues of X X^T / n equal those of X^T X / n (d x d), which is what is computed: O(n d^2), exact.
* ``avg_pairwise_similarity``: mean cosine similarity over all pairs i != j, exactly, as
  (|sum x_i|^2 - n) / (n (n - 1)) for unit vectors: O(n d).
* ``cluster_entropy``: k-means (k-means++ init, fixed seed) on the embeddings, entropy of the cluster sizes divided
  by log(k): 1 = samples spread evenly over k topics, 0 = one topic.
"""
from __future__ import annotations

import math
import random
from collections.abc import Iterable, Sequence

import numpy as np
from scipy.cluster.vq import kmeans2

from arena.errors import InvalidInput
from scoring.scorers.base import SampleText, ScorerMeta, register
from scoring.scorers.embedding import EmbeddingScorer, positive_int_option

MINILM_DIM = 384


def reservoir_sample(
    *, batches: Iterable[Sequence[SampleText]], size: int, seed: int
) -> tuple[list[SampleText], int]:
    """(a uniform sample of at most ``size`` samples in file order, total count); ``size`` 0 keeps all.
    Holds at most ``size`` samples in memory."""
    rng = random.Random(seed)
    kept: list[tuple[int, SampleText]] = []
    seen = 0
    for batch in batches:
        for sample in batch:
            if size == 0 or seen < size:
                kept.append((seen, sample))
            else:
                slot = rng.randint(0, seen)
                if slot < size:
                    kept[slot] = (seen, sample)
            seen += 1
    kept.sort(key=lambda pair: pair[0])
    return [sample for _, sample in kept], seen


class SetwiseEmbeddingScorer(EmbeddingScorer):
    default_config = {**EmbeddingScorer.default_config, "sample_size": 10000, "seed": 0}

    def __init__(self, *, config: dict | None = None) -> None:
        super().__init__(config=config)
        size = self.config["sample_size"]
        if not isinstance(size, int) or isinstance(size, bool) or size < 0:
            raise InvalidInput(
                f"scorer {self.meta.name!r}: sample_size must be an integer >= 0 (0 = all), got {size!r}"
            )
        if not isinstance(self.config["seed"], int) or isinstance(self.config["seed"], bool):
            raise InvalidInput(f"scorer {self.meta.name!r}: seed must be an integer, got {self.config['seed']!r}")

    def score_set(self, batches: Iterable[Sequence[SampleText]]) -> dict:
        sample, n = reservoir_sample(batches=batches, size=self.config["sample_size"], seed=self.config["seed"])
        details = {"n": n, "n_used": len(sample), "sampled": len(sample) < n, "seed": self.config["seed"]}
        if len(sample) < 2:
            return {"value": None, **details, "reason": "needs at least 2 samples"}
        vectors = self.embed_samples(sample).astype(np.float64)
        return {**self.value_from_embeddings(vectors), **details}

    def value_from_embeddings(self, vectors: np.ndarray) -> dict:
        """{"value": ..., extra details} from unit-norm embeddings (n >= 2)."""
        raise NotImplementedError


def vendi_from_embeddings(*, vectors: np.ndarray) -> float:
    """exp(entropy of eig(K/n)), K the cosine similarity matrix of the rows of ``vectors`` (unit norm)."""
    n = vectors.shape[0]
    gram = vectors.T @ vectors / n if n > vectors.shape[1] else vectors @ vectors.T / n
    eigenvalues = np.clip(np.linalg.eigvalsh(gram), 0.0, None)
    eigenvalues = eigenvalues[eigenvalues > 1e-12] / eigenvalues.sum()
    return float(math.exp(-(eigenvalues * np.log(eigenvalues)).sum()))


def mean_pairwise_similarity(*, vectors: np.ndarray) -> float:
    n = vectors.shape[0]
    total = vectors.sum(axis=0)
    return float((total @ total - (vectors * vectors).sum()) / (n * (n - 1)))


@register
class VendiScore(SetwiseEmbeddingScorer):
    meta = ScorerMeta(
        name="vendi_score",
        axis="diversity",
        reads="QA",
        raw_range=(1.0, float(MINILM_DIM)),
        higher_is_better=True,
        needs_model=True,
        version="1",
        transform="log",
        scope="setwise",
        unit="effective number of distinct items",
        description="Vendi score with a cosine kernel on all-MiniLM-L6-v2 embeddings: the effective number of "
        "distinct samples, in [1, min(n, 384)]; computed on a fixed-seed sample of 10,000 for larger datasets.",
    )

    def value_from_embeddings(self, vectors: np.ndarray) -> dict:
        return {"value": vendi_from_embeddings(vectors=vectors)}


@register
class AveragePairwiseSimilarity(SetwiseEmbeddingScorer):
    meta = ScorerMeta(
        name="avg_pairwise_similarity",
        axis="diversity",
        reads="QA",
        raw_range=(0.0, 1.0),
        higher_is_better=False,
        needs_model=True,
        version="1",
        scope="setwise",
        unit="cosine similarity",
        description="Mean cosine similarity over all pairs of distinct samples (all-MiniLM-L6-v2 embeddings); lower "
        "= more diverse. Negative means (rare with this embedder) are clipped to 0 when normalised.",
    )

    def value_from_embeddings(self, vectors: np.ndarray) -> dict:
        return {"value": mean_pairwise_similarity(vectors=vectors)}


@register
class ClusterEntropy(SetwiseEmbeddingScorer):
    meta = ScorerMeta(
        name="cluster_entropy",
        axis="diversity",
        reads="QA",
        raw_range=(0.0, 1.0),
        higher_is_better=True,
        needs_model=True,
        version="1",
        scope="setwise",
        description="k-means (k=16 by default, fixed seed) over all-MiniLM-L6-v2 embeddings; entropy of the cluster "
        "sizes / log(k): 1 = samples spread evenly over k clusters, 0 = all in one.",
    )
    default_config = {**SetwiseEmbeddingScorer.default_config, "clusters": 16}

    def __init__(self, *, config: dict | None = None) -> None:
        super().__init__(config=config)
        if positive_int_option(scorer=self.meta.name, name="clusters", value=self.config["clusters"]) < 2:
            raise InvalidInput("scorer 'cluster_entropy': clusters must be at least 2")

    def value_from_embeddings(self, vectors: np.ndarray) -> dict:
        k = min(self.config["clusters"], vectors.shape[0])
        rng = np.random.default_rng(self.config["seed"])
        _, labels = kmeans2(vectors, k, iter=20, minit="++", seed=rng)
        sizes = np.bincount(labels, minlength=k)
        shares = sizes[sizes > 0] / sizes.sum()
        entropy = float(-(shares * np.log(shares)).sum())
        return {"value": entropy / math.log(k), "clusters": k, "cluster_sizes": sorted(sizes.tolist(), reverse=True)}
