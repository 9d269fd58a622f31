"""MinHash signature speed, side by side and interleaved in one run: Arena's vectorised numpy MinHash
against datasketch's fastest paths (``MinHash.bulk`` -> ``LeanMinHash``, with its default SHA-1 hashing and
with xxhash) and, when installed, the Rust ``rensa`` batch call. Every contender starts from the same raw
texts and uses the same shingling (word 3-grams of the normalised text, ``lineage.text``); times include
shingling. Prints samples/s per round, the median, and Arena's ratio to each.

    .venv/bin/python bench/bench_lineage_minhash.py --samples 20000 --rounds 3
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

import numpy as np  # noqa: E402

from lineage.minhash import MinHashParams, estimated_jaccard, signatures  # noqa: E402
from lineage.text import word_ngrams, words  # noqa: E402

VOCAB = np.array([f"w{i}" for i in range(50_000)])


def texts_for(n: int, *, seed: int, n_words: int) -> list[str]:
    rng = np.random.default_rng(seed)
    lengths = rng.integers(n_words // 2, n_words * 3 // 2, size=n)
    return [" ".join(VOCAB[rng.integers(0, VOCAB.size, size=k)]) for k in lengths]


def shingle_sets(texts: list[str], n: int) -> list[set[str]]:
    return [set(word_ngrams(words(t), n)) for t in texts]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--samples", type=int, default=20_000)
    parser.add_argument("--words", type=int, default=100, help="mean words per sample (uniform 0.5x-1.5x)")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    from datasketch import LeanMinHash, MinHash

    params = MinHashParams()
    texts = texts_for(args.samples, seed=1, n_words=args.words)

    def arena() -> None:
        signatures(texts, params=params)

    def datasketch_sha1() -> None:
        sets = [[g.encode() for g in s] for s in shingle_sets(texts, params.shingle_size)]
        [LeanMinHash(m) for m in MinHash.bulk(sets, num_perm=params.num_perm, seed=params.seed)]

    contenders = {"arena (arrow+numpy+rensa)": arena, "datasketch bulk+Lean (sha1)": datasketch_sha1}
    try:
        import xxhash

        def datasketch_xxh() -> None:
            sets = [[g.encode() for g in s] for s in shingle_sets(texts, params.shingle_size)]
            [LeanMinHash(m) for m in MinHash.bulk(sets, num_perm=params.num_perm, seed=params.seed, hashfunc=xxhash.xxh32_intdigest)]

        contenders["datasketch bulk+Lean (xxh32)"] = datasketch_xxh
    except ImportError:
        pass
    try:
        from rensa import RMinHash

        def rensa_batch() -> None:
            RMinHash.digest_matrix_from_token_sets(shingle_sets(texts, params.shingle_size), params.num_perm, params.seed)

        contenders["rensa digest_matrix (Rust)"] = rensa_batch
    except ImportError:
        pass

    times: dict[str, list[float]] = {name: [] for name in contenders}
    for r in range(args.rounds):  # interleaved: each round runs every contender once
        for name, run in contenders.items():
            start = time.perf_counter()
            run()
            times[name].append(time.perf_counter() - start)
        print(f"round {r + 1}: " + ", ".join(f"{n} {args.samples / t[-1]:,.0f}/s" for n, t in times.items()), flush=True)
    ours = statistics.median(times["arena (arrow+numpy+rensa)"])
    print(f"\n{args.samples:,} samples, ~{args.words} words, num_perm {params.num_perm}, 3-word shingles, "
          f"median of {args.rounds} interleaved rounds (load {os.getloadavg()[0]:.1f} on {os.cpu_count()} cpus):")
    for name, t in times.items():
        med = statistics.median(t)
        print(f"  {name:30s} {args.samples / med:10,.0f} samples/s   arena is {med / ours:5.2f}x faster")
    # accuracy: Jaccard estimates agree with the exact Jaccard of the same shingle sets
    base = texts[:200]
    edited = [" ".join(t.split()[: len(t.split()) * 3 // 4]) for t in base]
    sig_a, sig_b = signatures(base, params=params), signatures(edited, params=params)
    exact = [len(a & b) / len(a | b) for a, b in zip(shingle_sets(base, 3), shingle_sets(edited, 3))]
    err = np.abs(estimated_jaccard(sig_a, sig_b) - np.array(exact))
    print(f"  Jaccard estimate error vs exact over 200 pairs: mean {err.mean():.3f}, max {err.max():.3f}")


if __name__ == "__main__":
    main()
