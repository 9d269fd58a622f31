"""The persistent MinHash/LSH overlap index: per-dataset signature files + LSH band rows in PostgreSQL.

Indexing a dataset (``overlap_index_dataset``):

1. stream its samples (instruction + response) in batches, compute MinHash signatures
   and write them to ``datasets/<id>/lineage-minhash-sig.npy`` (plus ``-rep.npy``: each
   sample's first identical-signature sample, so exact duplicates are searched once);
2. COPY the LSH band keys of its representative samples into ``lineage_lshbucket``;
3. its band keys, a batch of samples at a time, are probed against everyone else's rows
   (one index lookup per key, so the cost does not grow with the index size); the
   candidate sample pairs are verified against both signature files (memory-mapped:
   only the candidate rows are read) with the Jaccard threshold;
4. per other dataset, the shares of each side's samples that matched become a
   :class:`DatasetOverlap` row.

No other dataset's signatures are recomputed; memory is bounded by the batch size plus a
boolean per sample of the dataset being indexed and of each dataset it overlaps.
"""
from __future__ import annotations

import contextlib
import struct
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
from django.db import connection, transaction

from arena.errors import InvalidInput
from arena.models import Dataset
from arena.storage import iter_batches, local_copy, rep_file_name, signature_file_name, store_file, temporary_path
from lineage.minhash import EMPTY_SLOT, MinHashParams, band_keys, estimated_jaccard, signature_digest, signatures
from lineage.models import DatasetOverlap, DatasetSignature, LshBucket
from lineage.text import sample_text

BATCH_ROWS = 2000
PROBE_SAMPLES = 5000  # own samples per probe query (x bands keys)
MAX_MATCHES_PER_KEY = 100_000


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


_COPY_SQL = f"COPY {LshBucket._meta.db_table} (key, dataset_id, sample_idx) FROM STDIN WITH (FORMAT BINARY)"
_COPY_ROW = np.dtype([("nfields", ">i2"), ("l1", ">i4"), ("key", ">i8"), ("l2", ">i4"), ("ds", ">i8"), ("l3", ">i4"), ("idx", ">i4")])


def _copy_payload(keys: np.ndarray, dataset_id: int, sample_idx: np.ndarray) -> bytes:
    rows = np.empty(keys.size, dtype=_COPY_ROW)
    rows["nfields"], rows["l1"], rows["l2"], rows["l3"] = 3, 8, 8, 4
    rows["key"] = keys
    rows["ds"] = dataset_id
    rows["idx"] = sample_idx
    return rows.tobytes()


def insert_buckets(*, dataset_id: int, signature_file: str, params: MinHashParams) -> int:
    """Replace the dataset's LSH rows with those of its representative, non-empty samples (binary COPY)."""
    inserted = 0
    with transaction.atomic(), open_signatures(signature_file) as (sig, rep):
        LshBucket.objects.filter(dataset_id=dataset_id).delete()
        with _bucket_writer(dataset_id=dataset_id) as write:
            for lo in range(0, sig.shape[0], 50_000):
                block = np.asarray(sig[lo : lo + 50_000])
                idx = np.arange(lo, lo + block.shape[0], dtype=np.int64)
                keep = (np.asarray(rep[lo : lo + block.shape[0]]) == idx) & ~(block == EMPTY_SLOT).all(axis=1)
                keys = band_keys(block[keep], params=params)  # (k, bands)
                write(keys.reshape(-1).astype(np.int64), np.repeat(idx[keep], params.bands))
                inserted += keys.size
    return inserted


@contextlib.contextmanager
def _bucket_writer(*, dataset_id: int) -> Iterator:
    """``write(keys, sample_idx)`` into the LSH table: binary COPY on PostgreSQL, batched INSERTs elsewhere
    (the SQLite demo database)."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor, cursor.cursor.copy(_COPY_SQL) as copy:
            copy.write(b"PGCOPY\n\xff\r\n\x00" + struct.pack(">ii", 0, 0))
            yield lambda keys, sample_idx: copy.write(_copy_payload(keys, dataset_id, sample_idx))
            copy.write(struct.pack(">h", -1))
        return
    table = LshBucket._meta.db_table
    sql = f"INSERT INTO {table} (key, dataset_id, sample_idx) VALUES (%s, %s, %s)"

    def write(keys: np.ndarray, sample_idx: np.ndarray) -> None:
        with connection.cursor() as cursor:
            cursor.executemany(sql, [(k, dataset_id, i) for k, i in zip(keys.tolist(), sample_idx.tolist())])

    yield write


# One index probe per key: the LIMIT keeps PostgreSQL from flattening the LATERAL subquery into a hash join
# over the whole table, so the cost grows with the new dataset's keys (x log of the index), not the index size.
_PROBE_SQL = f"""
SELECT x.i, o.dataset_id, o.sample_idx
FROM unnest(%s::bigint[]) WITH ORDINALITY AS x(key, i)
CROSS JOIN LATERAL (
    SELECT b.dataset_id, b.sample_idx FROM {LshBucket._meta.db_table} b
    WHERE b.key = x.key AND b.dataset_id <> %s
    LIMIT {MAX_MATCHES_PER_KEY}
) o
"""


def _probe(*, keys: np.ndarray, dataset_id: int) -> list[tuple[int, int, int]]:
    """(1-based position in ``keys``, other dataset id, other sample idx) for every indexed row sharing a key."""
    if connection.vendor == "postgresql":
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SET LOCAL jit = off")  # many cheap index probes: compiling the plan costs more than it saves
            cursor.execute(_PROBE_SQL, [keys.tolist(), dataset_id])
            return cursor.fetchall()
    positions: dict[int, list[int]] = {}
    for position, key in enumerate(keys.tolist(), start=1):
        positions.setdefault(key, []).append(position)
    unique = list(positions)
    rows: list[tuple[int, int, int]] = []
    table = LshBucket._meta.db_table
    with connection.cursor() as cursor:
        for lo in range(0, len(unique), 500):  # SQLite's bound-parameter limit
            chunk = unique[lo : lo + 500]
            cursor.execute(
                f"SELECT key, dataset_id, sample_idx FROM {table} "
                f"WHERE key IN ({', '.join(['%s'] * len(chunk))}) AND dataset_id <> %s",
                [*chunk, dataset_id],
            )
            for key, other, sample_idx in cursor.fetchall():
                rows.extend((position, other, sample_idx) for position in positions[key])
    return rows


def _candidate_pairs(
    *, dataset_id: int, sig: np.ndarray, rep: np.ndarray, params: MinHashParams, indexed: np.ndarray
) -> Iterator[tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """Unique (other dataset id, other sample idx, own sample idx) candidates, one batch of own samples at a time.

    Only datasets in ``indexed`` (those with a signature file when the search began) are kept; any indexed
    later will find this one when they search.
    """
    for lo in range(0, sig.shape[0], PROBE_SAMPLES):
        block = np.asarray(sig[lo : lo + PROBE_SAMPLES])
        idx = np.arange(lo, lo + block.shape[0], dtype=np.int64)
        keep = (np.asarray(rep[lo : lo + block.shape[0]]) == idx) & ~(block == EMPTY_SLOT).all(axis=1)
        if not keep.any():
            continue
        keys = band_keys(block[keep], params=params).reshape(-1)
        owner = np.repeat(idx[keep], params.bands)
        rows = _probe(keys=keys.astype(np.int64), dataset_id=dataset_id)
        if len(rows) >= MAX_MATCHES_PER_KEY:
            counts = np.bincount(np.asarray([r[0] for r in rows], dtype=np.int64))
            if counts.max() >= MAX_MATCHES_PER_KEY:
                raise InvalidInput(
                    f"an LSH key of dataset {dataset_id} matches {MAX_MATCHES_PER_KEY}+ indexed samples; "
                    "the index is dominated by one duplicated sample and overlap counts would be incomplete"
                )
        if not rows:
            continue
        found = np.asarray(rows, dtype=np.int64)
        found = found[np.isin(found[:, 1], indexed)]
        triples = np.unique(np.column_stack([found[:, 1], found[:, 2], owner[found[:, 0] - 1]]), axis=0)
        yield triples[:, 0], triples[:, 1], triples[:, 2]


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
    others = dict(
        DatasetSignature.objects.exclude(dataset_id=dataset.pk).exclude(signature_file="").values_list("dataset_id", "signature_file")
    )
    indexed = np.fromiter(others, dtype=np.int64, count=len(others))
    accumulators: dict[int, _Accumulator] = {}
    with open_signatures(signature_file) as (own_sig, own_rep), contextlib.ExitStack() as stack:
        own_rep = np.asarray(own_rep)
        for other_ids, other_idx, own_idx in _candidate_pairs(
            dataset_id=dataset.pk, sig=own_sig, rep=own_rep, params=params, indexed=indexed
        ):
            for other_id in np.unique(other_ids).tolist():
                acc = accumulators.get(other_id)
                if acc is None:
                    other_sig, other_rep = stack.enter_context(open_signatures(others[other_id]))
                    other_rep = np.asarray(other_rep)
                    acc = accumulators[other_id] = _Accumulator(
                        own_matched=np.zeros(own_rep.size, dtype=bool),
                        other_matched=np.zeros(other_rep.size, dtype=bool),
                        own_exact=np.zeros(own_rep.size, dtype=bool),
                        other_exact=np.zeros(other_rep.size, dtype=bool),
                        other_sig=other_sig,
                        other_rep=other_rep,
                    )
                mask = other_ids == other_id
                mine, theirs = own_idx[mask], other_idx[mask]  # sorted by other idx: sequential reads there
                similarity = estimated_jaccard(np.asarray(own_sig[mine]), np.asarray(acc.other_sig[theirs]))
                ok, same = similarity >= params.threshold, similarity >= 1.0
                acc.own_matched[mine[ok]] = True
                acc.other_matched[theirs[ok]] = True
                acc.own_exact[mine[same]] = True
                acc.other_exact[theirs[same]] = True
                acc.candidates += int(mask.sum())
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
