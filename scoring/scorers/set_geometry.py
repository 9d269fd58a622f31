"""Set geometry of a dataset's sentence embeddings: one value per dataset (all-MiniLM-L6-v2 by default).

Every scorer here embeds a fixed-seed uniform sample of at most ``sample_size`` samples (see setwise.py) into unit
vectors x_1..x_n (rows of X, d = 384) and reports one number; higher = more spread out, i.e. more diverse.

* ``logdet``: log det(I_n + K) / n, K = X X^T the cosine-similarity matrix (the DPP volume of Wang et al., 2024,
  with the identity as ridge so it stays finite when n > d, and per sample so datasets of different sizes compare).
  Computed as log det(I_d + X^T X) (Sylvester's identity). 0 = all samples identical (-> log(1+n)/n), log 2 = all
  orthogonal.
* ``embedding_radius``: geometric mean over dimensions of the per-dimension standard deviation (Lai et al., 2020).
  For unit vectors it is at most 1/sqrt(d) (AM-GM on sum of variances <= 1); zero-variance dimensions count as 1e-10.
* ``cluster_inertia``: k-means (k-means++ init, fixed seed) then the mean squared Euclidean distance of a sample to
  its centroid (Du & Black, 2019, per sample); in [0, 1] for unit vectors.
* ``facility_location``: 1 - F(S)/n with F(S) = sum_j max_{i in S} cos(x_j, x_i) the facility-location coverage of
  the set by ``exemplars`` samples S chosen greedily (candidates: a fixed-seed pool of at most 1,000): how badly a
  few representatives cover the dataset. 0 = a few samples stand for all; near 1 = nothing covers anything.
* ``novelsum``: NovelSum (Yang et al., 2025): mean over i of the proximity-weighted average, over all j ranked by
  distance (weight 1/rank^distance_power, j = i first), of density_i * d(x_i, x_j), d the cosine distance and
  density_i = 1 / (mean squared L2 distance to its ``neighbors`` nearest other distinct samples)^density_power. The
  original measures density in a large fixed reference corpus; Arena has none, so the dataset is its own reference
  and densities are scaled to mean 1: they re-weight samples against each other (a sample in a dense region counts
  more), but cannot inflate a whole dataset (a set of near-duplicates would otherwise have an enormous density).
* ``effective_rank``: exp of the Shannon entropy of the normalised singular values of X (Roy & Vetterli, 2007);
  1 = one direction, at most min(n, d).
* ``embedding_nuclear_norm``: ||X||_* / (sqrt(min(n, d)) * ||X||_F), the nuclear norm scaled by its maximum for the
  set's size, so it lies in (0, 1]: 1 = a flat spectrum (orthogonal samples), 1/sqrt(min(n, d)) = one direction.
"""
from __future__ import annotations

import math

import numpy as np
from scipy.cluster.vq import kmeans2

from arena.errors import InvalidInput
from scoring.scorers.base import LazyModule, ScorerMeta, register
from scoring.scorers.embedding import positive_int_option
from scoring.scorers.setwise import MINILM_DIM, SetwiseEmbeddingScorer

torch = LazyModule("torch")  # imported on first use: see LazyModule

CANDIDATE_POOL = 1000
ROW_BLOCK = 1024
ZERO_STD = 1e-10


def _number_option(*, scorer: str, name: str, value: object, low: float, high: float) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not low <= value <= high:
        raise InvalidInput(f"scorer {scorer!r}: {name} must be a number from {low} to {high}, got {value!r}")
    return float(value)


# --- the measures, on unit-norm rows (n >= 2) ------------------------------------------------------------
def logdet_per_sample(*, vectors: np.ndarray) -> float:
    n, d = vectors.shape
    small = np.eye(d) + vectors.T @ vectors if n > d else np.eye(n) + vectors @ vectors.T
    sign, value = np.linalg.slogdet(small)
    if sign <= 0:
        raise RuntimeError("I + K is not positive definite: the embeddings are not finite")
    return float(value / n)


def embedding_radius(*, vectors: np.ndarray) -> tuple[float, int]:
    """(geometric mean of per-dimension standard deviations, number of zero-variance dimensions)."""
    stds = vectors.std(axis=0)
    zero = int((stds <= ZERO_STD).sum())
    return float(np.exp(np.log(np.maximum(stds, ZERO_STD)).mean())), zero


def cluster_inertia(*, vectors: np.ndarray, clusters: int, seed: int) -> tuple[float, int]:
    k = min(clusters, vectors.shape[0])
    centroids, labels = kmeans2(vectors, k, iter=20, minit="++", seed=np.random.default_rng(seed))
    return float(((vectors - centroids[labels]) ** 2).sum(axis=1).mean()), k


def facility_location_gap(*, vectors: np.ndarray, exemplars: int, seed: int) -> tuple[float, list[int]]:
    """(1 - F(S)/n, the chosen rows), S picked greedily from a fixed-seed pool of candidates."""
    n = vectors.shape[0]
    rng = np.random.default_rng(seed)
    pool = np.sort(rng.choice(n, size=min(n, CANDIDATE_POOL), replace=False))
    sims = np.clip(vectors[pool] @ vectors.T, 0.0, None)  # (candidates, n); negative similarity covers nothing
    covered = np.zeros(n)
    picked: list[int] = []  # positions in the pool
    for _ in range(min(exemplars, len(pool))):
        gains = np.maximum(sims - covered, 0.0).sum(axis=1)
        gains[picked] = -1.0
        best = int(gains.argmax())
        picked.append(best)
        covered = np.maximum(covered, sims[best])
    return float(1.0 - covered.mean()), [int(pool[p]) for p in picked]


def novelsum(*, vectors: np.ndarray, neighbors: int, density_power: float, distance_power: float) -> float:
    n = vectors.shape[0]
    x = torch.from_numpy(np.ascontiguousarray(vectors, dtype=np.float64))
    unique = torch.from_numpy(np.unique(np.ascontiguousarray(vectors, dtype=np.float64), axis=0))
    squared, unique_squared = (x * x).sum(dim=1), (unique * unique).sum(dim=1)
    k = min(neighbors, unique.shape[0] - 1)
    rank_weights = 1.0 / torch.arange(1, n + 1, dtype=torch.float64).pow(distance_power)
    densities = torch.ones(n, dtype=torch.float64)
    if k >= 1:  # density from the k nearest other distinct samples (squared L2, as in the original)
        for r0 in range(0, n, ROW_BLOCK):
            block = squared[r0 : r0 + ROW_BLOCK, None] + unique_squared[None, :] - 2 * x[r0 : r0 + ROW_BLOCK] @ unique.T
            nearest = block.clamp(min=0).topk(k + 1, dim=1, largest=False).values[:, 1:].mean(dim=1)  # skip itself
            densities[r0 : r0 + ROW_BLOCK] = 1.0 / (nearest + 1e-9).pow(density_power)
        densities /= densities.mean()  # no reference corpus: density re-weights samples, never the whole set
    total = 0.0
    for r0 in range(0, n, ROW_BLOCK):
        distances = (1.0 - x[r0 : r0 + ROW_BLOCK] @ x.T).clamp(min=0).sort(dim=1).values
        weighted = (distances * rank_weights).sum(dim=1) / rank_weights.sum()
        total += float((weighted * densities[r0 : r0 + ROW_BLOCK]).sum())
    return total / n


def singular_values(*, vectors: np.ndarray) -> np.ndarray:
    return np.linalg.svd(vectors, compute_uv=False)


def effective_rank(*, vectors: np.ndarray) -> float:
    values = singular_values(vectors=vectors)
    shares = values[values > 1e-12] / values.sum()
    return float(math.exp(-(shares * np.log(shares)).sum()))


def scaled_nuclear_norm(*, vectors: np.ndarray) -> float:
    n, d = vectors.shape
    return float(singular_values(vectors=vectors).sum() / (math.sqrt(min(n, d)) * np.linalg.norm(vectors)))


# --- scorers -------------------------------------------------------------------------------------------------
def _meta(name: str, raw_range: tuple[float, float], description: str, **extra) -> ScorerMeta:
    return ScorerMeta(
        name=name,
        axis="diversity",
        reads="QA",
        raw_range=raw_range,
        higher_is_better=True,
        needs_model=True,
        version="1",
        scope="setwise",
        description=description + " On all-MiniLM-L6-v2 embeddings of a fixed-seed sample of at most 10,000.",
        **extra,
    )


@register
class LogDet(SetwiseEmbeddingScorer):
    meta = _meta(
        "logdet",
        (0.0, math.log(2.0)),
        "log det(I + K) / n, K the cosine-similarity matrix of the samples (DPP volume per sample): 0 = all "
        "samples identical, log 2 = all orthogonal.",
        unit="nats per sample",
    )

    def value_from_embeddings(self, vectors: np.ndarray) -> dict:
        return {"value": logdet_per_sample(vectors=vectors)}


@register
class EmbeddingRadius(SetwiseEmbeddingScorer):
    meta = _meta(
        "embedding_radius",
        (0.0, 1.0 / math.sqrt(MINILM_DIM)),
        "Radius (Lai et al., 2020): geometric mean of the per-dimension standard deviations of the embeddings; at "
        "most 1/sqrt(384) for unit vectors.",
    )

    def value_from_embeddings(self, vectors: np.ndarray) -> dict:
        radius, zero = embedding_radius(vectors=vectors)
        return {"value": radius, "zero_std_dimensions": zero}


@register
class ClusterInertia(SetwiseEmbeddingScorer):
    meta = _meta(
        "cluster_inertia",
        (0.0, 1.0),
        "k-means (k=16 by default, fixed seed) inertia per sample: mean squared Euclidean distance of an "
        "embedding to its cluster centroid; higher = clusters are loose, the data is spread out.",
    )
    default_config = {**SetwiseEmbeddingScorer.default_config, "clusters": 16}

    def __init__(self, *, config: dict | None = None) -> None:
        super().__init__(config=config)
        positive_int_option(scorer=self.meta.name, name="clusters", value=self.config["clusters"])

    def value_from_embeddings(self, vectors: np.ndarray) -> dict:
        value, k = cluster_inertia(vectors=vectors, clusters=self.config["clusters"], seed=self.config["seed"])
        return {"value": value, "clusters": k}


@register
class FacilityLocation(SetwiseEmbeddingScorer):
    meta = _meta(
        "facility_location",
        (0.0, 1.0),
        "1 - F(S)/n, F the facility-location coverage sum_j max_(i in S) cos(x_j, x_i) of the dataset by 16 "
        "greedily chosen exemplars (option exemplars): 0 = a few samples represent all of them.",
    )
    default_config = {**SetwiseEmbeddingScorer.default_config, "exemplars": 16}

    def __init__(self, *, config: dict | None = None) -> None:
        super().__init__(config=config)
        positive_int_option(scorer=self.meta.name, name="exemplars", value=self.config["exemplars"])

    def value_from_embeddings(self, vectors: np.ndarray) -> dict:
        gap, chosen = facility_location_gap(
            vectors=vectors, exemplars=self.config["exemplars"], seed=self.config["seed"]
        )
        return {"value": gap, "exemplars": len(chosen)}


@register
class NovelSum(SetwiseEmbeddingScorer):
    meta = _meta(
        "novelsum",
        (0.0, 2.0),
        "NovelSum (Yang et al., 2025): mean over samples of the proximity-weighted (1/rank) average cosine distance "
        "to the other samples, weighted by local density (1/mean squared distance to 10 neighbours)^0.5 scaled to "
        "mean 1 (the dataset is its own density reference: there is no reference corpus).",
    )
    default_config = {
        **SetwiseEmbeddingScorer.default_config,
        "sample_size": 5000,
        "neighbors": 10,
        "density_power": 0.5,
        "distance_power": 1.0,
    }

    def __init__(self, *, config: dict | None = None) -> None:
        super().__init__(config=config)
        positive_int_option(scorer=self.meta.name, name="neighbors", value=self.config["neighbors"])
        for option in ("density_power", "distance_power"):
            _number_option(scorer=self.meta.name, name=option, value=self.config[option], low=0.0, high=4.0)

    def value_from_embeddings(self, vectors: np.ndarray) -> dict:
        value = novelsum(
            vectors=vectors,
            neighbors=self.config["neighbors"],
            density_power=float(self.config["density_power"]),
            distance_power=float(self.config["distance_power"]),
        )
        return {"value": value}


@register
class EffectiveRank(SetwiseEmbeddingScorer):
    meta = _meta(
        "effective_rank",
        (1.0, float(MINILM_DIM)),
        "Effective rank (Roy & Vetterli, 2007) of the embedding matrix: exp of the entropy of its normalised "
        "singular values; 1 = one direction, at most min(n, 384).",
        transform="log",
        unit="directions",
    )

    def value_from_embeddings(self, vectors: np.ndarray) -> dict:
        return {"value": effective_rank(vectors=vectors)}


@register
class EmbeddingNuclearNorm(SetwiseEmbeddingScorer):
    meta = _meta(
        "embedding_nuclear_norm",
        (0.0, 1.0),
        "Nuclear norm of the embedding matrix scaled by its maximum sqrt(min(n, 384)) * ||X||_F: 1 = flat spectrum "
        "(orthogonal samples), 1/sqrt(min(n, 384)) = all samples in one direction.",
    )

    def value_from_embeddings(self, vectors: np.ndarray) -> dict:
        return {"value": scaled_nuclear_norm(vectors=vectors)}
