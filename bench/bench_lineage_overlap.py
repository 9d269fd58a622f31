"""Inferred-overlap throughput: Arena's MinHash/LSH index (numpy signatures + sorted band files) next to datasketch.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/arena_lineage_bench \\
        .venv/bin/python bench/bench_lineage_overlap.py --index-size 1000000 --new-size 100000

Builds an index of ``--index-size`` synthetic samples (``--chunks`` datasets, each indexed with the
real ``dataset_overlap_index`` service, so each one is compared against those before it), then adds
one dataset of ``--new-size`` samples (``--overlap`` of them copied from the index) step by step with
the same functions the service calls, timing each step in wall and CPU seconds (CPU: this process,
all threads; the database does almost nothing now). Then datasketch (MinHash + MinHashLSH, in memory)
on the same texts and shingles, unless ``--datasketch-size 0``. Prints samples/s and peak RSS;
``--json PATH`` also writes the figures.

Bench-only shortcut: the synthetic Parquet files are written directly and their Dataset rows created
as ``ready`` (no ingest), so only lineage work is timed. The database named by DATABASE_URL (default: a
temporary SQLite file) is migrated if needed; the bench datasets are deleted at the end. Storage goes to
a temp directory.
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
_STORAGE = tempfile.mkdtemp(prefix="arena-bench-lineage-")
os.environ.setdefault("ARENA_STORAGE", os.path.join(_STORAGE, "storage"))
os.environ.setdefault("ARENA_TMP_DIR", os.path.join(_STORAGE, "tmp"))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "arena.settings")
os.environ.setdefault("DATABASE_URL", f"sqlite:///{os.path.join(_STORAGE, 'bench.sqlite3')}")

import django  # noqa: E402

django.setup()

import numpy as np  # noqa: E402
import pyarrow as pa  # noqa: E402
import pyarrow.parquet as pq  # noqa: E402
from django.conf import settings  # noqa: E402
from django.contrib.auth import get_user_model  # noqa: E402
from django.core.management import call_command  # noqa: E402

from arena.models import Dataset  # noqa: E402
from arena.storage import samples_file_name, store_file, temporary_path  # noqa: E402
from lineage import overlap_index  # noqa: E402
from lineage.minhash import MinHashParams, signatures  # noqa: E402
from lineage.models import DatasetOverlap, DatasetSignature  # noqa: E402
from lineage.services import dataset_overlap_index, edges_infer  # noqa: E402
from lineage.text import word_ngrams, words  # noqa: E402

VOCAB = np.array([f"w{i}" for i in range(50_000)])


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def texts_for(n: int, *, seed: int, n_words: int) -> list[str]:
    rng = np.random.default_rng(seed)
    out = []
    for lo in range(0, n, 10_000):
        block = VOCAB[rng.integers(0, VOCAB.size, size=(min(10_000, n - lo), n_words))]
        out.extend(" ".join(row) for row in block)
    return out


def make_dataset(owner, name: str, texts: list[str]) -> Dataset:
    dataset = Dataset.objects.create(name=name, slug=f"{name}-{time.time_ns()}", owner=owner, visibility="private")
    half = [t.split(" ", 30) for t in texts]
    table = pa.table(
        {
            "idx": pa.array(range(len(texts)), pa.int64()),
            "instruction": [" ".join(h[:30]) for h in half],
            "response": [h[30] if len(h) > 30 else "" for h in half],
        }
    )
    with temporary_path(suffix=".parquet") as path:
        pq.write_table(table, path, row_group_size=10_000)
        name = store_file(local_path=path, name=samples_file_name(dataset.pk))
    Dataset.objects.filter(pk=dataset.pk).update(status="ready", samples_file=name, sample_count=len(texts))
    dataset.refresh_from_db()
    return dataset


CPU: dict[str, float] = {}


def timed(label: str, func, *args, **kwargs):
    """(result, wall seconds); the CPU seconds of this process (all threads) go to ``CPU[label]``."""
    start, cpu = time.perf_counter(), time.process_time()
    result = func(*args, **kwargs)
    elapsed = time.perf_counter() - start
    CPU[label] = CPU.get(label, 0.0) + time.process_time() - cpu
    return result, elapsed


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--index-size", type=int, default=1_000_000)
    parser.add_argument("--chunks", type=int, default=10)
    parser.add_argument("--new-size", type=int, default=100_000)
    parser.add_argument("--overlap", type=float, default=0.1, help="share of the new dataset copied from the index")
    parser.add_argument("--words", type=int, default=100, help="words per sample")
    parser.add_argument("--datasketch-size", type=int, default=100_000, help="samples for the datasketch comparison (0: skip)")
    parser.add_argument("--json", default="", help="also write the figures to this JSON file")
    args = parser.parse_args()
    load_before = os.getloadavg()
    call_command("migrate", verbosity=0)
    owner, _ = get_user_model().objects.get_or_create(username="bench-lineage")
    params = MinHashParams()
    print(f"params: {params.as_dict()}; {args.words} words/sample; storage {_STORAGE}; "
          f"database {settings.DATABASES['default']['ENGINE'].rsplit('.', 1)[-1]}; load {load_before[0]:.1f}")

    # --- the index -----------------------------------------------------------------------------
    chunk = args.index_size // args.chunks
    index_sets = []
    gen_time = build_time = 0.0
    first_chunk_texts: list[str] = []
    for c in range(args.chunks):
        texts, t = timed("gen", texts_for, chunk, seed=100 + c, n_words=args.words)
        gen_time += t
        if c == 0:
            first_chunk_texts = texts
        dataset = make_dataset(owner, f"bench-index-{c}", texts)
        del texts
        _, t = timed("index", dataset_overlap_index, dataset_id=dataset.pk, params=params)
        build_time += t
        index_sets.append(dataset)
        print(f"  indexed chunk {c + 1}/{args.chunks}: {chunk:,} samples in {t:.1f}s ({chunk / t:,.0f} samples/s)", flush=True)
    total_index = chunk * args.chunks
    print(f"index: {total_index:,} samples in {args.chunks} datasets, built in {build_time:.1f}s "
          f"({total_index / build_time:,.0f} samples/s end to end, {CPU['index']:.1f} CPU s)")

    # --- add one dataset, step by step (the steps of dataset_overlap_index) ----------------------
    n_copy = int(args.new_size * args.overlap)
    new_texts = first_chunk_texts[:n_copy] + texts_for(args.new_size - n_copy, seed=999, n_words=args.words)
    new = make_dataset(owner, "bench-new", new_texts)
    sig_file, t_sig = timed("sig", overlap_index.compute_signature_files, dataset=new, params=params)
    record, _ = DatasetSignature.objects.update_or_create(
        dataset=new, defaults={"signature_file": sig_file, "sample_count": new.sample_count, "params": params.as_dict()}
    )
    (bands_file, parts), t_bands = timed("bands", overlap_index.write_bands_file, dataset_id=new.pk, signature_file=sig_file, params=params)
    DatasetSignature.objects.filter(pk=record.pk).update(bands_file=bands_file, bands_parts=parts)
    overlaps, t_query = timed("query", overlap_index.measure_overlaps, dataset=new, signature_file=sig_file, params=params)
    neighbours, t_store = timed("store", overlap_index.replace_overlaps, dataset_id=new.pk, overlaps=overlaps)
    _, t_edges = timed("edges", edges_infer, dataset_ids=[new.pk, *sorted(neighbours)], threshold=params.threshold)
    total = t_sig + t_bands + t_query + t_store + t_edges
    total_cpu = sum(CPU[k] for k in ("sig", "bands", "query", "store", "edges"))
    n = args.new_size
    found = {o.a_id if o.a_id != new.pk else o.b_id: o.share_of(new.pk) for o in overlaps}
    n_keys = sum(
        int(np.load(os.path.join(_STORAGE, "storage", part), mmap_mode="r").size) for part in overlap_index.bands_part_names(bands_file, parts)
    )
    load_after = os.getloadavg()
    print(f"add {n:,} samples to an index of {total_index:,}: {total:.1f}s wall, {total_cpu:.1f} CPU s "
          f"(load {load_before[0]:.1f} -> {load_after[0]:.1f}, {os.cpu_count()} cores)")
    print(f"  signatures      {t_sig:7.1f}s  {CPU['sig']:6.1f} CPU s  {n / t_sig:10,.0f} samples/s")
    print(f"  LSH band file   {t_bands:7.1f}s  {CPU['bands']:6.1f} CPU s  {n / t_bands:10,.0f} samples/s  ({n_keys:,} sorted keys)")
    print(f"  LSH query+verify{t_query:7.1f}s  {CPU['query']:6.1f} CPU s  {n / t_query:10,.0f} samples/s  ({sum(o.candidate_pairs for o in overlaps):,} candidate pairs)")
    print(f"  overlap rows + edge inference {t_store + t_edges:.2f}s  {CPU['store'] + CPU['edges']:.2f} CPU s")
    print(f"  measured share of new in index chunk 0: {found.get(index_sets[0].pk, 0.0):.4f} (planted {args.overlap})")
    print(f"peak RSS (Arena pipeline): {peak_rss_mb():,.0f} MiB")
    figures = {
        "index_size": total_index, "new_size": n, "chunks": args.chunks, "cores": os.cpu_count(),
        "load_before": load_before[0], "load_after": load_after[0],
        "build_wall_s": build_time, "build_cpu_s": CPU["index"],
        "add_wall_s": total, "add_cpu_s": total_cpu,
        "phases_wall_s": {"signatures": t_sig, "bands": t_bands, "query_verify": t_query, "store_edges": t_store + t_edges},
        "phases_cpu_s": {"signatures": CPU["sig"], "bands": CPU["bands"], "query_verify": CPU["query"], "store_edges": CPU["store"] + CPU["edges"]},
        "measured_share": found.get(index_sets[0].pk, 0.0), "planted_share": args.overlap, "peak_rss_mb": peak_rss_mb(),
    }
    if args.json:
        with open(args.json, "w") as out:
            json.dump(figures, out, indent=1)
    if args.datasketch_size <= 0:
        Dataset.objects.filter(owner=owner).delete()
        return

    # --- datasketch on the same texts -----------------------------------------------------------
    from datasketch import MinHash, MinHashLSH

    m = min(args.datasketch_size, args.new_size, chunk)
    def shingles(text: str) -> list[bytes]:
        return [g.encode() for g in set(word_ngrams(words(text), params.shingle_size))]

    _, t_ours_mem = timed("ours", signatures, new_texts[:m], params=params)
    start = time.perf_counter()
    ds_new = []
    for text in new_texts[:m]:
        mh = MinHash(num_perm=params.num_perm, seed=params.seed)
        mh.update_batch(shingles(text))
        ds_new.append(mh)
    t_ds_sig = time.perf_counter() - start
    ds_index = []
    for text in first_chunk_texts[:m]:
        mh = MinHash(num_perm=params.num_perm, seed=params.seed)
        mh.update_batch(shingles(text))
        ds_index.append(mh)
    lsh = MinHashLSH(threshold=params.threshold, num_perm=params.num_perm)
    start = time.perf_counter()
    for i, mh in enumerate(ds_index):
        lsh.insert(i, mh)
    t_ds_insert = time.perf_counter() - start
    start = time.perf_counter()
    hits = sum(1 for mh in ds_new if lsh.query(mh))
    t_ds_query = time.perf_counter() - start
    print(f"datasketch on {m:,} samples (in memory, one process):")
    print(f"  MinHash         {t_ds_sig:7.1f}s  {m / t_ds_sig:10,.0f} samples/s   (Arena numpy, in memory: {m / t_ours_mem:,.0f} samples/s)")
    print(f"  MinHashLSH insert {t_ds_insert:5.1f}s  {m / t_ds_insert:10,.0f} samples/s")
    print(f"  MinHashLSH query  {t_ds_query:5.1f}s  {m / t_ds_query:10,.0f} samples/s   ({hits:,} of {m:,} with candidates; planted {min(n_copy, m):,})")
    print(f"peak RSS (after datasketch): {peak_rss_mb():,.0f} MiB")

    Dataset.objects.filter(owner=owner).delete()
    DatasetOverlap.objects.filter(a__owner=owner).delete()


if __name__ == "__main__":
    main()
