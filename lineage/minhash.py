"""Numpy-vectorised MinHash and LSH banding.

Shingles (word n-grams of the normalised text) are hashed to uint64 without building
their strings: each word once with pandas' stable SipHash (``pd.util.hash_array``, fixed
key: identical across processes and machines), then each gram from its words' hashes
(:func:`shingle_hashes`, in Arrow's and numpy's C kernels). The ``num_perm`` seeded
min-wise hashes of each sample are taken by rensa's ``RMinHash`` batch kernel (Rust) from
the flat hash buffer: 32-bit slots; estimated Jaccard = share of equal slots, as in
``datasketch.MinHash.jaccard``.

LSH: the signature is cut into ``bands`` bands of ``rows`` slots; each band is folded
into one signed 64-bit key (band number mixed in), suitable for a PostgreSQL bigint.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc


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
    shingle_hash: str = "word-siphash-combined-v2+rensa-rmh"  # how grams are hashed and minimised
    threshold: float = 0.7  # estimated Jaccard at or above which two samples are near-duplicates

    def __post_init__(self) -> None:
        if self.bands * self.rows != self.num_perm:
            raise ValueError(f"bands x rows must equal num_perm ({self.bands} x {self.rows} != {self.num_perm})")
        if not 0.0 < self.threshold <= 1.0:
            raise ValueError(f"threshold must be in (0, 1], got {self.threshold}")

    def as_dict(self) -> dict:
        return asdict(self)


_GRAM_MULT = np.array(
    [0x9E3779B97F4A7C15, 0xC2B2AE3D27D4EB4F, 0x165667B19E3779F9, 0xD6E8FEB86659FD93, 0xFF51AFD7ED558CCD,
     0xC4CEB9FE1A85EC53, 0x94D049BB133111EB, 0xBF58476D1CE4E5B9],
    dtype=np.uint64,
)


def _finalise(x: np.ndarray) -> np.ndarray:
    """splitmix64's finaliser, in place: every input bit affects every output bit."""
    x ^= x >> np.uint64(30)
    x *= np.uint64(0xBF58476D1CE4E5B9)
    x ^= x >> np.uint64(27)
    x *= np.uint64(0x94D049BB133111EB)
    x ^= x >> np.uint64(31)
    return x


def tokenise(texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    """Every text's words, in Arrow's C++ kernels: (uint64 hash of each word, flat; word count per text).

    Same normalisation as :func:`lineage.text.words` (lowercase; runs of anything but letters and digits
    separate words), in one pass over the batch; each distinct word is hashed once with pandas' SipHash."""
    arr = pa.array(texts, type=pa.large_string())
    norm = pc.utf8_trim_whitespace(pc.replace_substring_regex(pc.utf8_lower(arr), pattern=r"[^\pL\pN]+", replacement=" "))
    tokens = pc.utf8_split_whitespace(norm)
    lengths = pc.list_value_length(tokens).to_numpy(zero_copy_only=False).astype(np.int64)
    empty = pc.equal(pc.utf8_length(norm), 0).to_numpy(zero_copy_only=False)
    lengths[empty] = 0  # an empty text splits into one empty token
    flat = pc.list_flatten(tokens)
    if empty.any():
        flat = pc.filter(flat, pc.not_equal(pc.utf8_length(flat), 0))
    if len(flat) == 0:
        return np.zeros(0, dtype=np.uint64), lengths
    encoded = pc.dictionary_encode(flat)
    distinct = encoded.dictionary.to_numpy(zero_copy_only=False)
    word_hash = pd.util.hash_array(distinct, categorize=False).astype(np.uint64, copy=False)
    return word_hash[encoded.indices.to_numpy(zero_copy_only=False)], lengths


def shingle_hashes(texts: Sequence[str], *, shingle_size: int) -> tuple[np.ndarray, np.ndarray]:
    """uint64 hashes of every text's word n-grams (flat), and each text's start offset into them (len(texts)+1).

    Vectorised: a gram's hash combines its words' hashes position by position (multiply by a per-position
    odd constant, sum, splitmix finaliser), without building gram strings. A text shorter than
    ``shingle_size`` words is one gram (its whole text); a repeated gram is hashed again, which a minimum
    does not notice."""
    if shingle_size > _GRAM_MULT.size:
        raise ValueError(f"shingle_size at most {_GRAM_MULT.size}, got {shingle_size}")
    word_hash, lengths = tokenise(texts)
    offsets = np.zeros(len(texts) + 1, dtype=np.int64)
    total = int(word_hash.size)
    if total == 0:
        return np.zeros(0, dtype=np.uint64), offsets
    starts = np.repeat(np.cumsum(lengths) - lengths, lengths)
    position = np.arange(total) - starts
    remaining = np.repeat(lengths, lengths) - position  # words left in the text from here
    valid = (remaining >= shingle_size) | ((position == 0) & (remaining < shingle_size))
    grams = np.zeros(total, dtype=np.uint64)
    with np.errstate(over="ignore"):
        for k in range(shingle_size):
            shifted = np.zeros(total, dtype=np.uint64)
            shifted[: total - k] = word_hash[k:]
            grams += np.where(remaining > k, shifted, np.uint64(0)) * _GRAM_MULT[k]
        grams = _finalise(grams[valid])
    counts = np.where(lengths >= shingle_size, lengths - shingle_size + 1, (lengths > 0).astype(np.int64))
    np.cumsum(counts, out=offsets[1:])
    return grams, offsets


def signatures(texts: Sequence[str], *, params: MinHashParams) -> np.ndarray:
    """MinHash signatures, shape (len(texts), num_perm), uint32. A text with no words gets all EMPTY_SLOT.

    The minimum over each text's gram hashes under ``num_perm`` seeded permutations is taken by rensa's
    ``RMinHash`` batch kernel (Rust) straight from the flat hash buffer."""
    from rensa import RMinHash

    hashes, offsets = shingle_hashes(texts, shingle_size=params.shingle_size)
    out = np.full((len(texts), params.num_perm), EMPTY_SLOT, dtype=np.uint32)
    if hashes.size == 0:
        return out
    nonempty = np.diff(offsets) > 0
    starts = np.concatenate([[0], offsets[1:][nonempty]])
    matrix = RMinHash.digest_matrix_from_flat_token_hashes(hashes, starts.astype(np.uint64), params.num_perm, params.seed)
    out[nonempty] = np.asarray(matrix.to_rows(), dtype=np.uint32)
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
