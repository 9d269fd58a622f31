"""Throughput of the model-based scorers: perplexity/IFD with SmolLM2-135M, MiniLM embeddings, kNN search.

    .venv/bin/python bench/bench_scoring_models.py [--samples 300] [--batch-size 8] [--device auto|cpu|cuda]
        [--embed-texts 1000] [--knn-samples 1000]   (raise these on a GPU, e.g. 20000 and 100000)

Prints the device, tokens/s for PPL(A|Q) and for IFD (both passes), embeddings/s, kNN (k=10) time, peak RSS and
(on CUDA) peak GPU memory. Samples are synthetic (generated here, nothing is downloaded) with varied lengths.
Runs on a GPU machine unchanged (``--device auto`` picks CUDA when available).
"""
from __future__ import annotations

import argparse
import importlib.util
import os
import random
import resource
import subprocess
import sys
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "arena.settings")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

WORDS = (
    "data model train answer question explain reason step value function list number prime water energy "
    "history language python code result because therefore example simple complex river city music light"
).split()


def synthetic_samples(*, count: int, seed: int):
    from scoring.scorers.base import SampleText

    rng = random.Random(seed)
    samples = []
    for idx in range(count):
        question = " ".join(rng.choice(WORDS) for _ in range(rng.randint(5, 40))).capitalize() + "?"
        sentences = [
            " ".join(rng.choice(WORDS) for _ in range(rng.randint(6, 18))).capitalize()
            for _ in range(rng.randint(1, 12))
        ]
        answer = ". ".join(sentences) + "."
        samples.append(SampleText(idx=idx, instruction=question, response=answer))
    return samples


def peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def bench_language_model(*, samples, batch_size: int, max_length: int) -> None:
    from arena.model_loading.loaders import load_causal_lm
    from scoring.scorers.base import build_scorer
    from scoring.scorers.perplexity import clear_loss_cache, scored_sequence

    from django.conf import settings

    converted = any(Path(settings.ARENA_MODEL_CACHE).glob("*/arena_source.json"))
    started = time.perf_counter()
    lm = load_causal_lm()
    how = "from the converted cache" if converted else "converting the GGUF first"
    print(f"causal LM: {lm.identity} loaded in {time.perf_counter() - started:.1f} s ({how})")
    config = {"batch_size": batch_size, "max_length": max_length}
    tokens_qa = sum(len(scored_sequence(lm=lm, sample=s, kind="qa", max_length=max_length).ids) for s in samples)
    tokens_a = sum(len(scored_sequence(lm=lm, sample=s, kind="a", max_length=max_length).ids) for s in samples)

    build_scorer("ppl_qa", config=config).score_batch(samples[: min(8, len(samples))])  # warm-up
    clear_loss_cache()
    started = time.perf_counter()
    build_scorer("ppl_qa", config=config).score_batch(samples)
    elapsed = time.perf_counter() - started
    print(f"ppl_qa: {len(samples)} samples, {tokens_qa} tokens in {elapsed:.2f} s -> "
          f"{tokens_qa / elapsed:,.0f} tokens/s, {len(samples) / elapsed:,.1f} samples/s")

    clear_loss_cache()
    started = time.perf_counter()
    build_scorer("ifd", config=config).score_batch(samples)
    elapsed = time.perf_counter() - started
    tokens = tokens_qa + tokens_a
    print(f"ifd (PPL(A|Q) and PPL(A) passes): {tokens} tokens in {elapsed:.2f} s -> {tokens / elapsed:,.0f} tokens/s, "
          f"{len(samples) / elapsed:,.1f} samples/s")

    started = time.perf_counter()
    for name in ("ppl_qa", "ppl_a", "loss_a_given_q", "ifd_misaligned"):
        build_scorer(name, config=config).score_batch(samples)
    print(f"4 more LM scorers on the same samples (shared per-sample cache): {time.perf_counter() - started:.3f} s")


def bench_embeddings(*, texts_count: int, knn_samples: int) -> None:
    from arena.model_loading.loaders import embed_texts, load_sentence_embedder
    from scoring.scorers.base import build_scorer

    embedder = load_sentence_embedder()
    samples = synthetic_samples(count=max(texts_count, knn_samples), seed=1)
    texts = [f"{s.instruction}\n\n{s.response}" for s in samples[:texts_count]]
    embed_texts(embedder=embedder, texts=texts[:64])  # warm-up
    started = time.perf_counter()
    embed_texts(embedder=embedder, texts=texts, batch_size=64)
    elapsed = time.perf_counter() - started
    print(f"MiniLM embeddings (question+answer, max {embedder.max_length} tokens): {len(texts)} in {elapsed:.2f} s "
          f"-> {len(texts) / elapsed:,.0f} embeddings/s")

    if knn_samples:
        batches = [samples[i : i + 1000] for i in range(0, knn_samples, 1000)]
        started = time.perf_counter()
        count = sum(1 for _ in build_scorer("knn_distance", config={"k": 10}).score_dataset_samples(batches))
        print(f"knn_distance (embed + blockwise k=10 search): {count} samples in {time.perf_counter() - started:.2f} s")


def report_data_juicer() -> None:
    """Data-Juicer is only compared when it can run here; say why not otherwise."""
    if importlib.util.find_spec("data_juicer") is not None:
        print("data-juicer comparison: data_juicer is importable, but no comparison is implemented in this bench")
        return
    other = Path("/tmp/dj-venv/bin/python")
    if not other.exists():
        print("data-juicer comparison: skipped (data_juicer is not installed here nor in /tmp/dj-venv)")
        return
    probe = subprocess.run([str(other), "-c", "import data_juicer, torch"], capture_output=True, text=True, timeout=300)
    if probe.returncode != 0:
        last = (probe.stderr.strip().splitlines() or ["?"])[-1]
        print(f"data-juicer comparison: skipped (/tmp/dj-venv cannot run its LM perplexity op: {last}); "
              "its kenlm perplexity_filter needs a KenLM model downloaded at run time (offline here)")
        return
    print("data-juicer comparison: /tmp/dj-venv has data_juicer and torch; no comparison is implemented in this bench")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--samples", type=int, default=300, help="0 skips the causal LM part")
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--max-length", type=int, default=1024)
    parser.add_argument("--device", default=os.environ.get("ARENA_DEVICE", "auto"))
    parser.add_argument("--embed-texts", type=int, default=1000)
    parser.add_argument("--knn-samples", type=int, default=1000)
    parser.add_argument("--threads", type=int, default=0, help="torch CPU threads (0 = torch default)")
    args = parser.parse_args()
    os.environ["ARENA_DEVICE"] = args.device

    import django
    import torch

    django.setup()
    from arena.model_loading.device import resolve_device

    if args.threads:
        torch.set_num_threads(args.threads)
    device = resolve_device()
    cpu = f"CPU, {torch.get_num_threads()} torch threads"
    name = torch.cuda.get_device_name(device) if device.type == "cuda" else cpu
    print(f"device: {device} ({name}); torch {torch.__version__}")

    if args.samples:
        bench_language_model(samples=synthetic_samples(count=args.samples, seed=0), batch_size=args.batch_size,
                             max_length=args.max_length)
    bench_embeddings(texts_count=args.embed_texts, knn_samples=args.knn_samples)
    report_data_juicer()
    print(f"peak RSS: {peak_rss_mib():,.0f} MiB; load average at the end: {os.getloadavg()[0]:.1f} "
          f"on {os.cpu_count()} CPUs (other processes share them)")
    if device.type == "cuda":
        print(f"peak GPU memory: {torch.cuda.max_memory_allocated(device) / 2**20:,.0f} MiB")


if __name__ == "__main__":
    main()
