"""Training throughput of Arena's engine path (TRL SFTTrainer + accelerate + PEFT), the code every job runs.

    .venv/bin/python bench/bench_training.py                 # CPU: tiny demo model (full SFT) + SmolLM2-135M (LoRA)
    .venv/bin/python bench/bench_training.py --no-smollm2    # the tiny model only
    .venv/bin/python bench/bench_training.py --threads 2

Prints tokens/s (non-padding tokens, TrainingArguments.include_num_input_tokens_seen) measured after the first
optimizer step, and what the Job row would show. On a GPU use bench/gpu_check.sh, which also reports MFU.
Every figure is labelled with the device it was measured on.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import gpu_check  # noqa: E402  (sets a temporary ARENA_STORAGE; nothing touches a real installation)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--steps", type=int, default=None)
    parser.add_argument("--no-smollm2", action="store_true", help="skip SmolLM2-135M")
    parser.add_argument("--threads", type=int, default=1, help="torch CPU threads")
    args = parser.parse_args()

    import django

    django.setup()
    import torch
    from django.conf import settings

    from training.demo.services import TINY_BASE_CONFIG
    from arena.model_loading.locate import smollm2_gguf_path

    settings.ARENA_DEVICE = "cpu"
    torch.set_num_threads(args.threads)
    print(f"[CPU] {args.threads} torch thread(s); torch {torch.__version__}", flush=True)
    samples = gpu_check.write_samples(name="bench/samples.parquet", conversations=400, words_per_turn=8)
    tiny = "tiny:" + json.dumps(TINY_BASE_CONFIG)
    for packing in (False, True):
        result, _ = gpu_check.sft_throughput(
            label=f"[CPU] tiny demo model, full SFT, batch 16 x 128 tokens, packing={packing}", model_dir=tiny,
            samples=samples, seq=128, batch=16, steps=args.steps or 30, warmup=1, use_cpu=True, peak=None,
            packing=packing)
    if args.no_smollm2:
        return
    gpu_check.sft_throughput(
        label="[CPU] SmolLM2-135M-Instruct (GGUF weights), LoRA r16 all-linear, batch 2 x 256 tokens",
        model_dir=f"gguf:{smollm2_gguf_path()}", samples=samples, seq=256, batch=2, steps=args.steps or 4, warmup=1,
        use_cpu=True, peak=None, method="lora", packing=True)


if __name__ == "__main__":
    main()
