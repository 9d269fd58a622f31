"""Throughput of every model-based scorer family added for OpenDataArena parity, on the local default models.

    .venv/bin/python bench/bench_scoring_families.py [--samples 8] [--device auto|cpu|cuda] [--max-length 256]
        [--max-new-tokens 32] [--families reward_model,deita_complexity,...]

Families: reward_model and quality_classifier (SmolLM2-135M / MiniLM backbones given a seeded random head: the
throughput of a real reward model or fineweb-edu classifier of that size; their scores mean nothing), the prompted
ratings (deita_complexity, deita_quality, askllm), thinking_probability, fail_rate (greedy generation of
--max-new-tokens), el2n, grand and g_vendi (per-sample LoRA gradients of SmolLM2) and the seven set-geometry scorers
(MiniLM embeddings). Samples are synthetic (generated here; nothing is downloaded), each with a math answer so
fail_rate generates for all of them. Prints samples/s and, for LM families, input tokens/s, after one warm-up batch,
and the same for ``ppl_qa`` (the existing perplexity scorer) as a reference measured in the same run: on a shared
machine absolute figures vary several-fold, ratios to the reference much less.
The default run is short (8 samples) so it fits a small CPU; raise --samples on a GPU.

For a GPU check script: ``family_throughput(device="cuda", samples=256)`` returns the same figures as a dict
(import this file by path: ``runpy.run_path("bench/bench_scoring_families.py")["family_throughput"]``).
"""
from __future__ import annotations

import argparse
import os
import random
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "arena.settings")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.bench_scoring_models import WORDS  # noqa: E402  (the same synthetic vocabulary)

LM_FAMILIES = (
    "deita_complexity", "deita_quality", "askllm", "thinking_probability", "fail_rate", "el2n", "grand", "g_vendi",
)
CLASSIFIER_FAMILIES = ("reward_model", "quality_classifier")
SET_GEOMETRY = (
    "logdet", "embedding_radius", "cluster_inertia", "facility_location", "novelsum", "effective_rank",
    "embedding_nuclear_norm",
)
REFERENCE = "ppl_qa"  # an existing scorer on the same model and samples: figures of one run compare against it
FAMILIES = (REFERENCE, *CLASSIFIER_FAMILIES, *LM_FAMILIES, "set_geometry")


def synthetic_samples(*, count: int, seed: int):
    from scoring.scorers.base import SampleText

    rng = random.Random(seed)
    samples = []
    for idx in range(count):
        a, b = rng.randint(2, 99), rng.randint(2, 99)
        words = " ".join(rng.choice(WORDS) for _ in range(rng.randint(5, 30)))
        question = f"{words.capitalize()}. What is {a} plus {b}?"
        sentences = [" ".join(rng.choice(WORDS) for _ in range(rng.randint(6, 18))) for _ in range(rng.randint(1, 6))]
        answer = ". ".join(s.capitalize() for s in sentences) + f". The answer is \\boxed{{{a + b}}}."
        samples.append(SampleText(idx=idx, instruction=question, response=answer))
    return samples


def classifier_dirs(directory: Path) -> dict[str, Path]:
    """SmolLM2 and MiniLM with seeded random classification heads, saved as local model directories."""
    import torch
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    from arena.model_loading.locate import default_embedder_path
    from arena.model_loading.loaders import resolve_causal_lm_source

    out = {}
    for name, source, labels in (
        ("reward_model", resolve_causal_lm_source(model_path=""), 1),
        ("quality_classifier", default_embedder_path(), 1),
    ):
        torch.manual_seed(0)
        model = AutoModelForSequenceClassification.from_pretrained(str(source), num_labels=labels, dtype=torch.float32)
        tokenizer = AutoTokenizer.from_pretrained(str(source))
        if tokenizer.pad_token is None:
            tokenizer.pad_token = tokenizer.eos_token
            model.config.pad_token_id = tokenizer.pad_token_id
        model.save_pretrained(str(directory / name))
        tokenizer.save_pretrained(str(directory / name))
        out[name] = directory / name
    return out


def _input_tokens(*, name: str, scorer, samples) -> int:
    """Tokens the family feeds the model (prompts for ratings/generation, scored sequences for gradients)."""
    from scoring.scorers.perplexity import scored_sequence

    if name in ("el2n", "grand", "g_vendi", REFERENCE):
        lm = scorer.proxy if name in ("grand", "g_vendi") else scorer.lm
        max_length = scorer.config["max_length"]
        return sum(len(s.ids) for s in (scored_sequence(lm=lm, sample=x, kind="qa", max_length=max_length)
                                        for x in samples) if s is not None)
    if hasattr(scorer, "prompt"):
        return sum(len(scorer.prompt(s)) for s in samples)
    return 0


def _time(run) -> float:
    started = time.perf_counter()
    run()
    return time.perf_counter() - started


def print_row(family: str, row: dict) -> None:
    tokens = f", {row['tokens_per_s']:,.0f} input tokens/s" if "tokens_per_s" in row else ""
    note = f"  ({row['note']})" if "note" in row else ""
    print(f"{family:22s} {row['seconds']:8.2f} s  {row['samples_per_s']:8.2f} samples/s{tokens}{note}", flush=True)


def family_throughput(
    *, device: str = "auto", samples: int = 8, max_length: int = 256, max_new_tokens: int = 32,
    families: tuple[str, ...] = FAMILIES, report=None,
) -> dict[str, dict]:
    """{family: {"samples", "seconds", "samples_per_s", "tokens_per_s" (LM families), "device"}} after a warm-up;
    ``report(family, row)`` is called as each family finishes."""
    os.environ["ARENA_DEVICE"] = device
    import django

    django.setup()
    from django.conf import settings

    from arena.model_loading.device import resolve_device
    from scoring.scorers.base import build_scorer
    from scoring.scorers.perplexity import clear_loss_cache

    settings.ARENA_DEVICE = device
    data = synthetic_samples(count=samples, seed=0)
    warm = synthetic_samples(count=min(4, samples), seed=1)
    results: dict[str, dict] = {}
    with tempfile.TemporaryDirectory(prefix="bench-families-") as tmp:
        dirs = classifier_dirs(Path(tmp)) if set(families) & set(CLASSIFIER_FAMILIES) else {}
        for name in families:
            if name == "set_geometry":
                scorers = [
                    build_scorer(n, config={"clusters": 4} if n == "cluster_inertia" else {}) for n in SET_GEOMETRY
                ]
                scorers[0].score_set([warm])
                seconds = _time(lambda: [s.score_set([data]) for s in scorers])
                results[name] = {"samples": samples, "seconds": seconds, "samples_per_s": samples / seconds,
                                 "note": "embed once per scorer + 7 set measures"}
                if report:
                    report(name, results[name])
                continue
            config: dict = {"max_length": max_length}
            if name in dirs:
                config["model_path"] = str(dirs[name])
            if name == "fail_rate":
                config["max_new_tokens"] = max_new_tokens
            if name in ("reward_model", "quality_classifier", "deita_complexity", "deita_quality", "askllm",
                        "thinking_probability", "el2n", "fail_rate", REFERENCE):
                config["batch_size"] = 8
            scorer = build_scorer(name, config=config)
            if name == "g_vendi":
                dict(scorer.score_dataset_samples([warm]))
                seconds = _time(lambda: dict(scorer.score_dataset_samples([data])))
            else:
                scorer.score_batch(warm)
                if name == REFERENCE:
                    clear_loss_cache()  # otherwise the timed pass would read the warm-up's cached losses
                seconds = _time(lambda: scorer.score_batch(data))
            tokens = _input_tokens(name=name, scorer=scorer, samples=data)
            row = {"samples": samples, "seconds": seconds, "samples_per_s": samples / seconds}
            if tokens:
                row["tokens_per_s"] = tokens / seconds
            if name == "fail_rate":
                row["note"] = f"greedy generation of up to {max_new_tokens} new tokens per sample"
            results[name] = row
            if report:
                report(name, row)
            scorer.close()
    device_used = resolve_device()
    for row in results.values():
        row["device"] = str(device_used)
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--samples", type=int, default=8)
    parser.add_argument("--device", default=os.environ.get("ARENA_DEVICE", "auto"))
    parser.add_argument("--max-length", type=int, default=256)
    parser.add_argument("--max-new-tokens", type=int, default=32)
    parser.add_argument(
        "--families", default=",".join(FAMILIES), help=f"comma-separated subset of {', '.join(FAMILIES)}"
    )
    parser.add_argument("--threads", type=int, default=0, help="torch CPU threads (0 = torch default)")
    args = parser.parse_args()
    families = tuple(f for f in args.families.split(",") if f)
    unknown = set(families) - set(FAMILIES)
    if unknown:
        parser.error(f"unknown families: {', '.join(sorted(unknown))}")
    import torch

    if args.threads:
        torch.set_num_threads(args.threads)
    name = torch.cuda.get_device_name(0) if torch.cuda.is_available() and args.device != "cpu" else (
        f"CPU, {torch.get_num_threads()} threads")
    print(f"device: {args.device} ({name}); {args.samples} synthetic samples, max_length {args.max_length}", flush=True)
    family_throughput(device=args.device, samples=args.samples, max_length=args.max_length,
                      max_new_tokens=args.max_new_tokens, families=families, report=print_row)
    print(f"load average at the end: {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs (other processes share them)")


if __name__ == "__main__":
    main()
