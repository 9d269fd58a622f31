"""Numpy-vectorised MinHash and LSH banding.

Shingles (word n-grams of the normalised text) are hashed to uint64 with pandas'
stable SipHash (``pd.util.hash_array``, fixed key: identical across processes and
machines). Each of ``num_perm`` permutations is ``x -> a*x + b (mod 2**64)`` with an
odd ``a`` drawn from a fixed seed: a bijection of uint64, i.e. a true permutation, so
the minimum over a sample's shingles is a min-wise hash. The top 32 bits of the
minimum are kept (``min(x) >> 32 == min(x >> 32)``), halving storage. Estimated
Jaccard = share of equal signature slots, as in ``datasketch.MinHash.jaccard``.

LSH: the signature is cut into ``bands`` bands of ``rows`` slots; each band is folded
into one signed 64-bit key (band number mixed in), suitable for a PostgreSQL bigint.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass

import numpy as np
import pandas as pd

from lineage.text import word_ngrams, words

EMPTY_SLOT = np.uint32(0xFFFFFFFF)
_FOLD = np.uint64(0x9E3779B97F4A7C15)
_MIX = np.uint64(0xBF58476D1CE4E5B9)


@dataclass(frozen=True)
class MinHashParams:
    num_perm: int = 128
    bands: int = 16
    rows: int = 8
    shingle_size: int = 3
    seed: int = 1
    threshold: float = 0.7  # estimated Jaccard at or above which two samples are near-duplicates

    def __post_init__(self) -> None:
        if self.bands * self.rows != self.num_perm:
            raise ValueError(f"bands x rows must equal num_perm ({self.bands} x {self.rows} != {self.num_perm})")
        if not 0.0 < self.threshold <= 1.0:
            raise ValueError(f"threshold must be in (0, 1], got {self.threshold}")

    def as_dict(self) -> dict:
        return asdict(self)


def permutations(params: MinHashParams) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(params.seed)
    a = rng.integers(1, 2**63, size=params.num_perm, dtype=np.uint64) * np.uint64(2) + np.uint64(1)
    b = rng.integers(0, 2**63, size=params.num_perm, dtype=np.uint64)
    return a, b


def shingle_hashes(texts: Sequence[str], *, shingle_size: int) -> tuple[np.ndarray, np.ndarray]:
    """Flat uint64 shingle hashes of every text, and each text's start offset into them (len(texts)+1)."""
    shingles: list[str] = []
    offsets = np.zeros(len(texts) + 1, dtype=np.int64)
    for i, text in enumerate(texts):
        grams = set(word_ngrams(words(text), shingle_size))
        shingles.extend(grams)
        offsets[i + 1] = len(shingles)
    if not shingles:
        return np.zeros(0, dtype=np.uint64), offsets
    hashes = pd.util.hash_array(np.asarray(shingles, dtype=object), categorize=False)
    return hashes.astype(np.uint64, copy=False), offsets


def signatures(texts: Sequence[str], *, params: MinHashParams, perms: tuple[np.ndarray, np.ndarray] | None = None) -> np.ndarray:
    """MinHash signatures, shape (len(texts), num_perm), uint32. A text with no words gets all EMPTY_SLOT."""
    a, b = perms if perms is not None else permutations(params)
    hashes, offsets = shingle_hashes(texts, shingle_size=params.shingle_size)
    n = len(texts)
    out = np.full((n, params.num_perm), EMPTY_SLOT, dtype=np.uint32)
    if hashes.size == 0:
        return out
    lengths = np.diff(offsets)
    nonempty = lengths > 0
    starts = offsets[:-1][nonempty]
    chunk = max(1, min(params.num_perm, (1 << 22) // max(hashes.size, 1)))  # bound the temporary to ~32 MiB
    with np.errstate(over="ignore"):
        for lo in range(0, params.num_perm, chunk):
            hi = min(lo + chunk, params.num_perm)
            permuted = hashes[:, None] * a[None, lo:hi] + b[None, lo:hi]  # wraps mod 2**64: a bijection
            minima = np.minimum.reduceat(permuted, starts, axis=0)
            out[nonempty, lo:hi] = (minima >> np.uint64(32)).astype(np.uint32)
    return out


def band_keys(sig: np.ndarray, *, params: MinHashParams) -> np.ndarray:
    """LSH keys, shape (n, bands), int64: one per band of ``rows`` slots."""
    n = sig.shape[0]
    banded = sig.reshape(n, params.bands, params.rows).astype(np.uint64)
    keys = np.broadcast_to(np.arange(params.bands, dtype=np.uint64)[None, :] * _FOLD, (n, params.bands)).copy()
    with np.errstate(over="ignore"):
        for r in range(params.rows):
            keys ^= banded[:, :, r]
            keys *= _MIX
            keys ^= keys >> np.uint64(31)
    return keys.view(np.int64)


def signature_digest(sig: np.ndarray) -> np.ndarray:
    """One uint64 per signature row, equal for equal rows (used to collapse exact duplicates)."""
    digest = np.zeros(sig.shape[0], dtype=np.uint64)
    with np.errstate(over="ignore"):
        for col in range(sig.shape[1]):
            digest ^= sig[:, col].astype(np.uint64)
            digest *= _MIX
            digest ^= digest >> np.uint64(29)
    return digest


def estimated_jaccard(left: np.ndarray, right: np.ndarray) -> np.ndarray:
    """Row-wise share of equal slots between two (k, num_perm) signature arrays; empty signatures score 0."""
    equal = (left == right).mean(axis=1)
    empty = (left == EMPTY_SLOT).all(axis=1) | (right == EMPTY_SLOT).all(axis=1)
    equal[empty] = 0.0
    return equal
