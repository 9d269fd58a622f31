"""LSH band storage side by side, interleaved: the former PostgreSQL table (binary COPY into a btree-indexed
table, one LATERAL index probe per key) against the band files (sorted keys, numpy ``searchsorted``).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/arena_lineage_bench \\
        .venv/bin/python bench/bench_lineage_bands.py --index-size 200000 --new-size 20000 --rounds 3

Both sides get the same band keys: random uint32 signatures (band keys are hashes, so their distribution is
what real text gives) for ``--chunks`` indexed datasets and one new dataset, ``--overlap`` of whose samples
are copies of indexed ones. Per round, A then B: store the new dataset's keys, then find its candidate
pairs; each side must find the same pairs. The PostgreSQL side runs in a scratch table
(``bench_lshbucket``, same columns and indexes as the former ``LshBucket``), dropped at the end. Wall seconds
for both (the database's CPU time is not in this process), plus this process's CPU seconds.
"""
from __future__ import annotations

import argparse
import os
import statistics
import struct
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
_STORAGE = tempfile.mkdtemp(prefix="arena-bench-bands-")
os.environ.setdefault("ARENA_STORAGE", os.path.join(_STORAGE, "storage"))
os.environ.setdefault("ARENA_TMP_DIR", os.path.join(_STORAGE, "tmp"))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "arena.settings")

import django  # noqa: E402

django.setup()

import numpy as np  # noqa: E402
from django.db import connection, transaction  # noqa: E402

from arena.storage import store_file, temporary_path  # noqa: E402
from lineage import overlap_index  # noqa: E402
from lineage.minhash import MinHashParams, band_keys  # noqa: E402

TABLE = "bench_lshbucket"
COPY_ROW = np.dtype([("nfields", ">i2"), ("l1", ">i4"), ("key", ">i8"), ("l2", ">i4"), ("ds", ">i8"), ("l3", ">i4"), ("idx", ">i4")])
PROBE = f"""
SELECT x.i, o.dataset_id, o.sample_idx FROM unnest(%s::bigint[]) WITH ORDINALITY AS x(key, i)
CROSS JOIN LATERAL (SELECT b.dataset_id, b.sample_idx FROM {TABLE} b WHERE b.key = x.key AND b.dataset_id <> %s LIMIT 100000) o
"""


def pg_copy(cursor, keys: np.ndarray, dataset_id: int, sample_idx: np.ndarray) -> None:
    rows = np.empty(keys.size, dtype=COPY_ROW)
    rows["nfields"], rows["l1"], rows["l2"], rows["l3"] = 3, 8, 8, 4
    rows["key"], rows["ds"], rows["idx"] = keys, dataset_id, sample_idx
    with cursor.cursor.copy(f"COPY {TABLE} (key, dataset_id, sample_idx) FROM STDIN WITH (FORMAT BINARY)") as copy:
        copy.write(b"PGCOPY\n\xff\r\n\x00" + struct.pack(">ii", 0, 0))
        for lo in range(0, rows.size, 800_000):
            copy.write(rows[lo : lo + 800_000].tobytes())
        copy.write(struct.pack(">h", -1))


def keyed(sig: np.ndarray, params: MinHashParams) -> tuple[np.ndarray, np.ndarray]:
    keys = band_keys(sig, params=params).reshape(-1)
    return keys, np.repeat(np.arange(sig.shape[0], dtype=np.int64), params.bands)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--index-size", type=int, default=200_000)
    parser.add_argument("--chunks", type=int, default=2)
    parser.add_argument("--new-size", type=int, default=20_000)
    parser.add_argument("--overlap", type=float, default=0.1)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    if connection.vendor != "postgresql":
        sys.exit("set DATABASE_URL to a PostgreSQL database: the former band table is PostgreSQL-only")
    params = MinHashParams()
    rng = np.random.default_rng(1)
    chunk = args.index_size // args.chunks
    index_sigs = [rng.integers(0, 2**32 - 1, size=(chunk, params.num_perm), dtype=np.uint32) for _ in range(args.chunks)]
    n_copy = int(args.new_size * args.overlap)
    new_sig = np.concatenate([index_sigs[0][:n_copy], rng.integers(0, 2**32 - 1, size=(args.new_size - n_copy, params.num_perm), dtype=np.uint32)])
    new_id = args.chunks + 1
    load_before = os.getloadavg()[0]

    # the index, on both sides
    start = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS {TABLE}")
        cursor.execute(f"CREATE TABLE {TABLE} (id bigserial PRIMARY KEY, key bigint NOT NULL, dataset_id bigint NOT NULL, sample_idx integer NOT NULL)")
        cursor.execute(f"CREATE INDEX {TABLE}_key_ds ON {TABLE} (key, dataset_id) INCLUDE (sample_idx)")
        cursor.execute(f"CREATE INDEX {TABLE}_ds ON {TABLE} (dataset_id)")
        for d, sig in enumerate(index_sigs, start=1):
            keys, idx = keyed(sig, params)
            pg_copy(cursor, keys, d, idx)
        cursor.execute(f"ANALYZE {TABLE}")
    pg_build = time.perf_counter() - start
    signature_files: dict[int, str] = {}
    others: dict[int, list[str]] = {}
    start = time.perf_counter()
    for d, sig in [*enumerate(index_sigs, start=1), (new_id, new_sig)]:
        with temporary_path(suffix="-sig.npy") as sig_path, temporary_path(suffix="-rep.npy") as rep_path:
            np.save(sig_path, sig)
            np.save(rep_path, np.arange(sig.shape[0], dtype=np.int64))
            name = overlap_index.signature_file_name(d)
            store_file(local_path=rep_path, name=overlap_index.rep_file_name(name))
            store_file(local_path=sig_path, name=name)
        signature_files[d] = name
        if d != new_id:
            others[d] = overlap_index.bands_part_names(*overlap_index.write_bands_file(dataset_id=d, signature_file=name, params=params))
    file_build = time.perf_counter() - start
    print(f"index {args.index_size:,} samples in {args.chunks} datasets ({args.index_size * params.bands:,} keys): "
          f"PostgreSQL table {pg_build:.1f}s, band files (with signature files) {file_build:.1f}s; load {load_before:.1f}")

    def pg_side() -> set[tuple[int, int, int]]:
        keys, idx = keyed(new_sig, params)
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(f"DELETE FROM {TABLE} WHERE dataset_id = %s", [new_id])
            t0 = time.perf_counter()
            pg_copy(cursor, keys, new_id, idx)
            t1 = time.perf_counter()
        found = set()
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SET LOCAL jit = off")
            for lo in range(0, new_sig.shape[0], 5000):  # the former batch: 5,000 samples (80,000 keys) a query
                k, i = keyed(new_sig[lo : lo + 5000], params)
                cursor.execute(PROBE, [k.tolist(), new_id])
                found.update((d, s, int(i[p - 1]) + lo) for p, d, s in cursor.fetchall())
        t2 = time.perf_counter()
        timing["pg store"].append(t1 - t0)
        timing["pg query"].append(t2 - t1)
        return found

    def file_side() -> set[tuple[int, int, int]]:
        t0, c0 = time.perf_counter(), time.process_time()
        overlap_index.write_bands_file(dataset_id=new_id, signature_file=signature_files[new_id], params=params)
        t1, c1 = time.perf_counter(), time.process_time()
        found = set()
        with overlap_index.open_signatures(signature_files[new_id]) as (sig, rep):
            for d, theirs, mine in overlap_index._candidate_pairs(dataset_id=new_id, sig=sig, rep=rep, others=others, params=params):
                found.update(zip([d] * theirs.size, theirs.tolist(), mine.tolist()))
        t2, c2 = time.perf_counter(), time.process_time()
        timing["file store"].append(t1 - t0)
        timing["file query"].append(t2 - t1)
        timing["file store cpu"].append(c1 - c0)
        timing["file query cpu"].append(c2 - c1)
        return found

    timing: dict[str, list[float]] = {k: [] for k in ("pg store", "pg query", "file store", "file query", "file store cpu", "file query cpu")}
    for r in range(args.rounds):
        a, b = pg_side(), file_side()
        assert a == b, f"round {r + 1}: the two sides found different candidates ({len(a)} vs {len(b)})"
        print(f"round {r + 1}: " + ", ".join(f"{k} {v[-1]:.2f}s" for k, v in timing.items()) + f"; {len(a):,} candidate pairs", flush=True)
    med = {k: statistics.median(v) for k, v in timing.items()}
    print(f"\nadd {args.new_size:,} samples ({args.new_size * params.bands:,} keys) to {args.index_size:,}, median of "
          f"{args.rounds} interleaved rounds, load {load_before:.1f} -> {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores:")
    print(f"  store keys : PostgreSQL COPY {med['pg store']:.2f}s, band file {med['file store']:.2f}s "
          f"({med['file store cpu']:.2f} CPU s): {med['pg store'] / med['file store']:.1f}x")
    print(f"  candidates : PostgreSQL probes {med['pg query']:.2f}s, searchsorted {med['file query']:.2f}s "
          f"({med['file query cpu']:.2f} CPU s): {med['pg query'] / med['file query']:.1f}x")
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS {TABLE}")


if __name__ == "__main__":
    main()
