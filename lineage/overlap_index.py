"""The persistent MinHash/LSH overlap index: per-dataset signature and band-key files in storage.

Indexing a dataset (``overlap_index_dataset``):

1. stream its samples (instruction + response) in batches, compute MinHash signatures
   and write them to ``datasets/<id>/lineage-minhash-sig.npy`` (plus ``-rep.npy``: each
   sample's first identical-signature sample, so exact duplicates are searched once);
2. write the LSH band keys of its representative samples, sorted, to
   ``datasets/<id>/lineage-lsh-keys.npy`` (plus ``-idx.npy``: each key's sample index; a dataset
   of more than ``BAND_PART_SAMPLES`` samples gets several sorted parts, ``-keys-1.npy``...);
   PostgreSQL records only the file names (:class:`DatasetSignature`);
3. its band keys, a batch of samples at a time, are sorted and matched against every other
   indexed dataset's sorted keys (memory-mapped, binary search of the smaller side in the
   larger: only the pages where keys fall are read); the candidate sample pairs are verified
   against both signature files (memory-mapped: only the candidate rows are read) with the
   Jaccard threshold;
4. per other dataset, the shares of each side's samples that matched become a
   :class:`DatasetOverlap` row.

No other dataset's signatures are recomputed; memory is bounded by the batch size plus a
boolean per sample of the dataset being indexed and of each dataset it overlaps.
"""
from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
from django.db import transaction

from arena.errors import InvalidInput
from arena.models import Dataset
from arena.storage import (
    bands_file_name,
    bands_idx_file_name,
    bands_part_names,
    iter_batches,
    local_copy,
    rep_file_name,
    signature_file_name,
    store_file,
    temporary_path,
)
from lineage.minhash import EMPTY_SLOT, MinHashParams, band_keys, estimated_jaccard, signature_digest, signatures
from lineage.models import DatasetOverlap, DatasetSignature
from lineage.text import sample_text

BATCH_ROWS = 2000
PROBE_SAMPLES = 50_000  # own samples whose band keys are matched at once (x bands keys; about 40 MB)
MAX_MATCHES_PER_KEY = 100_000
BAND_PART_SAMPLES = 500_000  # samples per sorted part of a band file: bounds the memory of sorting it


def iter_sample_texts(dataset: Dataset, *, batch_rows: int = BATCH_ROWS) -> Iterator[list[str]]:
    for batch in iter_batches(dataset.samples_file, columns=["instruction", "response"], batch_size=batch_rows):
        columns = batch.to_pydict()
        yield [sample_text(q, a) for q, a in zip(columns["instruction"], columns["response"])]


def compute_signature_files(*, dataset: Dataset, params: MinHashParams) -> str:
    """Stream the dataset's samples into a stored signature file (and its duplicate map); returns its name."""
    if dataset.status != Dataset.Status.READY or not dataset.samples_file:
        raise InvalidInput(f"dataset {dataset.slug!r} is not ingested (status {dataset.status}); nothing to index")
    n = int(dataset.sample_count or 0)
    name = signature_file_name(dataset.pk)
    with temporary_path(suffix="-sig.npy") as sig_path, temporary_path(suffix="-rep.npy") as rep_path:
        sig = np.lib.format.open_memmap(sig_path, mode="w+", dtype=np.uint32, shape=(n, params.num_perm))
        row = 0
        for texts in iter_sample_texts(dataset):
            if row + len(texts) > n:
                raise InvalidInput(f"dataset {dataset.slug!r} has more samples than its recorded count {n}")
            sig[row : row + len(texts)] = signatures(texts, params=params)
            row += len(texts)
        if row != n:
            raise InvalidInput(f"dataset {dataset.slug!r} has {row} samples but its recorded count is {n}")
        digest = np.concatenate([signature_digest(sig[i : i + 100_000]) for i in range(0, n, 100_000)] or [np.zeros(0, np.uint64)])
        _, first, inverse = np.unique(digest, return_index=True, return_inverse=True)
        np.save(rep_path, first[inverse].astype(np.int64))
        sig.flush()
        del sig
        store_file(local_path=rep_path, name=rep_file_name(name))
        store_file(local_path=sig_path, name=name)
    return name


@contextlib.contextmanager
def open_signatures(signature_file: str) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """Memory-mapped (sig, rep) arrays of a stored signature file."""
    with local_copy(signature_file, suffix=".npy") as sig_path, local_copy(rep_file_name(signature_file), suffix=".npy") as rep_path:
        yield np.load(sig_path, mmap_mode="r"), np.load(rep_path, mmap_mode="r")


def write_bands_file(*, dataset_id: int, signature_file: str, params: MinHashParams) -> tuple[str, int]:
    """Store the dataset's LSH band keys (representative, non-empty samples only) in sorted parts of at most
    ``BAND_PART_SAMPLES`` samples each, with each key's sample index alongside; returns (name of the first
    part, number of parts). Deterministic from the signature file: rewriting is idempotent. Memory while
    sorting: about 40 bytes per key of one part (16 keys per sample: about 320 MB), whatever the dataset size."""
    name = bands_file_name(dataset_id)
    with open_signatures(signature_file) as (sig, rep):
        n = sig.shape[0]
        parts = max(1, -(-n // BAND_PART_SAMPLES))
        for part, part_name in enumerate(bands_part_names(name, parts)):
            keys_parts, idx_parts = [np.zeros(0, dtype=np.int64)], [np.zeros(0, dtype=np.int32)]
            for lo in range(part * BAND_PART_SAMPLES, min(n, (part + 1) * BAND_PART_SAMPLES), 50_000):
                hi = min(lo + 50_000, (part + 1) * BAND_PART_SAMPLES, n)
                block = np.asarray(sig[lo:hi])
                idx = np.arange(lo, hi, dtype=np.int64)
                keep = (np.asarray(rep[lo:hi]) == idx) & ~(block == EMPTY_SLOT).all(axis=1)
                keys_parts.append(band_keys(block[keep], params=params).reshape(-1))
                idx_parts.append(np.repeat(idx[keep], params.bands).astype(np.int32))
            keys, sample_idx = np.concatenate(keys_parts), np.concatenate(idx_parts)
            del keys_parts, idx_parts
            order = np.argsort(keys, kind="stable")  # equal keys keep ascending sample order
            with temporary_path(suffix="-keys.npy") as keys_path, temporary_path(suffix="-idx.npy") as idx_path:
                np.save(keys_path, keys[order])
                np.save(idx_path, sample_idx[order])
                del keys, sample_idx, order
                store_file(local_path=idx_path, name=bands_idx_file_name(part_name))
                store_file(local_path=keys_path, name=part_name)
    return name, parts


@contextlib.contextmanager
def open_bands(bands_part: str) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """Memory-mapped (sorted keys int64, sample idx int32) of one stored band-file part."""
    with local_copy(bands_part, suffix=".npy") as keys_path, local_copy(bands_idx_file_name(bands_part), suffix=".npy") as idx_path:
        yield np.load(keys_path, mmap_mode="r"), np.load(idx_path, mmap_mode="r")


def _expand(lo: np.ndarray, hi: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For ranges [lo, hi): (index of the range each position came from, the position)."""
    counts = hi - lo
    hit = np.flatnonzero(counts)
    counts = counts[hit]
    total = int(counts.sum())
    which = np.repeat(hit, counts)
    base = np.repeat(lo[hit] - (np.cumsum(counts) - counts), counts)
    return which, base + np.arange(total, dtype=np.int64)


def _matches(own_keys: np.ndarray, other_keys: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Every (own position, other position) with equal keys, both arrays sorted; plus each own key's match count.

    The smaller side is binary-searched in the larger (numpy ``searchsorted``), so the cost is
    min(m, n) x log(max(m, n)) and a memory-mapped side is only read where the other side's keys fall."""
    if other_keys.size >= own_keys.size:
        lo = np.searchsorted(other_keys, own_keys, side="left")
        hi = np.searchsorted(other_keys, own_keys, side="right")
        own_pos, other_pos = _expand(lo, hi)
        return own_pos, other_pos, hi - lo
    lo = np.searchsorted(own_keys, other_keys, side="left")
    hi = np.searchsorted(own_keys, other_keys, side="right")
    other_pos, own_pos = _expand(lo, hi)
    return own_pos, other_pos, np.bincount(own_pos, minlength=own_keys.size)


def _candidate_pairs(
    *, dataset_id: int, sig: np.ndarray, rep: np.ndarray, others: dict[int, list[str]], params: MinHashParams
) -> Iterator[tuple[int, np.ndarray, np.ndarray]]:
    """Unique (other dataset id, other sample idxs, own sample idxs) candidates: samples sharing an LSH band key.

    ``others`` maps each dataset to search (those with a band file when the search began; any indexed later
    will find this one when they search) to its band-file parts (disjoint sets of its samples). Own samples are taken ``PROBE_SAMPLES`` at a time
    (memory bound): their band keys are sorted, and each other dataset's sorted keys (memory-mapped) are
    matched with ``searchsorted``.
    """
    for lo in range(0, sig.shape[0], PROBE_SAMPLES):
        block = np.asarray(sig[lo : lo + PROBE_SAMPLES])
        idx = np.arange(lo, lo + block.shape[0], dtype=np.int64)
        keep = (np.asarray(rep[lo : lo + block.shape[0]]) == idx) & ~(block == EMPTY_SLOT).all(axis=1)
        if not keep.any():
            continue
        keys = band_keys(block[keep], params=params).reshape(-1)
        order = np.argsort(keys, kind="stable")
        own_keys = keys[order]
        owner = np.repeat(idx[keep], params.bands)[order]
        per_key = np.zeros(own_keys.size, dtype=np.int64)
        for other_id, other_part in ((d, part) for d, parts in sorted(others.items()) for part in parts):
            with open_bands(other_part) as (other_keys, other_idx):
                if other_keys.size == 0:
                    continue
                own_pos, other_pos, counts = _matches(own_keys, other_keys)
                if own_pos.size == 0:
                    continue
                per_key += counts
                if per_key.max() >= MAX_MATCHES_PER_KEY:
                    raise InvalidInput(
                        f"an LSH key of dataset {dataset_id} matches {MAX_MATCHES_PER_KEY}+ indexed samples; "
                        "the index is dominated by one duplicated sample and overlap counts would be incomplete"
                    )
                theirs = np.asarray(other_idx[other_pos]).astype(np.int64)
                pairs = np.unique((theirs << 32) | owner[own_pos])  # sorted by other idx: sequential reads there
                yield other_id, pairs >> 32, pairs & 0xFFFFFFFF


@dataclass
class _Accumulator:
    own_matched: np.ndarray  # over sample indices of the dataset being indexed
    other_matched: np.ndarray
    own_exact: np.ndarray  # matched with an identical signature (verbatim copies)
    other_exact: np.ndarray
    other_sig: np.ndarray
    other_rep: np.ndarray
    candidates: int = 0


def measure_overlaps(*, dataset: Dataset, signature_file: str, params: MinHashParams) -> list[DatasetOverlap]:
    """Verify the dataset's LSH candidates against every other indexed dataset; returns unsaved overlap rows.

    Memory: a boolean per sample of the dataset and of each dataset it overlaps, plus one probe batch.
    """
    indexed = (
        DatasetSignature.objects.exclude(dataset_id=dataset.pk).exclude(signature_file="").exclude(bands_file="")
        .values_list("dataset_id", "signature_file", "bands_file", "bands_parts")
    )
    signature_files = {d: sig for d, sig, _, _ in indexed}
    others = {d: bands_part_names(bands, parts) for d, _, bands, parts in indexed}
    accumulators: dict[int, _Accumulator] = {}
    with open_signatures(signature_file) as (own_sig, own_rep), contextlib.ExitStack() as stack:
        own_rep = np.asarray(own_rep)
        for other_id, theirs, mine in _candidate_pairs(
            dataset_id=dataset.pk, sig=own_sig, rep=own_rep, others=others, params=params
        ):
            acc = accumulators.get(other_id)
            if acc is None:
                other_sig, other_rep = stack.enter_context(open_signatures(signature_files[other_id]))
                other_rep = np.asarray(other_rep)
                acc = accumulators[other_id] = _Accumulator(
                    own_matched=np.zeros(own_rep.size, dtype=bool),
                    other_matched=np.zeros(other_rep.size, dtype=bool),
                    own_exact=np.zeros(own_rep.size, dtype=bool),
                    other_exact=np.zeros(other_rep.size, dtype=bool),
                    other_sig=other_sig,
                    other_rep=other_rep,
                )
            similarity = estimated_jaccard(np.asarray(own_sig[mine]), np.asarray(acc.other_sig[theirs]))
            ok, same = similarity >= params.threshold, similarity >= 1.0
            acc.own_matched[mine[ok]] = True
            acc.other_matched[theirs[ok]] = True
            acc.own_exact[mine[same]] = True
            acc.other_exact[theirs[same]] = True
            acc.candidates += int(mine.size)
        results = []
        for other_id, acc in sorted(accumulators.items()):
            row = _overlap_row(dataset_id=dataset.pk, other_id=other_id, own_rep=own_rep, acc=acc, params=params)
            if row is not None:
                results.append(row)
    return results


def _overlap_row(*, dataset_id: int, other_id: int, own_rep: np.ndarray, acc: _Accumulator, params: MinHashParams):
    """Shares over all samples: a representative's match counts for every exact duplicate of it."""
    own_count = int(acc.own_matched[own_rep].sum())
    other_count = int(acc.other_matched[acc.other_rep].sum())
    own_exact = int(acc.own_exact[own_rep].sum())
    other_exact = int(acc.other_exact[acc.other_rep].sum())
    if own_count == 0 and other_count == 0:
        return None
    n_own, n_other = own_rep.size, acc.other_rep.size
    own_share, other_share = own_count / n_own, other_count / n_other
    mine_is_a = dataset_id < other_id
    return DatasetOverlap(
        a_id=min(dataset_id, other_id),
        b_id=max(dataset_id, other_id),
        a_matched=own_count if mine_is_a else other_count,
        b_matched=other_count if mine_is_a else own_count,
        a_total=n_own if mine_is_a else n_other,
        b_total=n_other if mine_is_a else n_own,
        a_in_b=own_share if mine_is_a else other_share,
        b_in_a=other_share if mine_is_a else own_share,
        a_exact=own_exact if mine_is_a else other_exact,
        b_exact=other_exact if mine_is_a else own_exact,
        candidate_pairs=acc.candidates,
        params=params.as_dict(),
    )


def replace_overlaps(*, dataset_id: int, overlaps: list[DatasetOverlap]) -> set[int]:
    """Swap the dataset's overlap rows for ``overlaps``; returns the ids of every neighbour, old or new."""
    from django.db.models import Q

    with transaction.atomic():
        old = DatasetOverlap.objects.filter(Q(a_id=dataset_id) | Q(b_id=dataset_id))
        neighbours = {a if a != dataset_id else b for a, b in old.values_list("a_id", "b_id")}
        old.delete()
        DatasetOverlap.objects.bulk_create(
            overlaps,
            update_conflicts=True,  # a concurrent indexing of the other side may have measured the same pair
            unique_fields=["a", "b"],
            update_fields=["a_matched", "b_matched", "a_total", "b_total", "a_in_b", "b_in_a", "a_exact", "b_exact", "candidate_pairs", "params", "computed_at"],
        )
    return neighbours | {o.a_id if o.a_id != dataset_id else o.b_id for o in overlaps}
