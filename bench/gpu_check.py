"""One GPU check of Arena's training and evaluation engines (called by bench/gpu_check.sh; < 8 min on one H100/H200).

    python bench/gpu_check.py                      # on a GPU machine: writes bench/results/<date>-<gpu>.json
    python bench/gpu_check.py --cpu-smoke --out /tmp/x   # tiny sizes on CPU: checks the script itself

Models are built from configs with random weights (no download): throughput does not depend on the weights.

(a) full SFT of a ~1.1B Llama-architecture model (TinyLlama-1.1B shape), bf16, packing, sequence 2048, through
    ``training.engine.sft.train_model`` (the code every Arena job runs) with the job's own ``JobCallback``:
    tokens/s and MFU = 6 * N * tokens/s / bf16 dense peak;
(b) the same for the SmolLM2-135M architecture (its weights are kept, as a job keeps them, and reused below);
(c) lm-evaluation-harness generation throughput (HFLM backend, ``generate_until``) on (b)'s model;
(d) Arena's perplexity / IFD scorers (``scoring.scorers``) throughput on (b)'s model.

"steady" figures leave out the first ``--warmup`` optimizer steps (CUDA kernel selection, allocator growth);
"job" figures are what the Job row would show (the whole run, warm-up included).
"""
from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import random
import re
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
for name in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE", "HF_DATASETS_OFFLINE"):
    os.environ.setdefault(name, "1")
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "arena.settings")
WORK = Path(tempfile.mkdtemp(prefix="arena-gpu-check-"))
os.environ["ARENA_VAR_DIR"] = str(WORK)  # storage, temp files and the SQLite default: nothing touches a real install
os.environ["ARENA_STORAGE"] = str(WORK / "storage")
os.environ["ARENA_TMP_DIR"] = str(WORK / "tmp")
os.environ.pop("DATABASE_URL", None)

LLAMA_1B = {"hidden_size": 2048, "intermediate_size": 5632, "num_hidden_layers": 22, "num_attention_heads": 32,
            "num_key_value_heads": 4, "vocab_size": 32000, "max_position_embeddings": 2048,
            "tie_word_embeddings": False, "rope_theta": 10000.0}
SMOLLM2_135M = {"hidden_size": 576, "intermediate_size": 1536, "num_hidden_layers": 30, "num_attention_heads": 9,
                "num_key_value_heads": 3, "vocab_size": 49152, "max_position_embeddings": 8192,
                "tie_word_embeddings": True, "rope_theta": 100000.0}
TINY = {"hidden_size": 64, "intermediate_size": 128, "num_hidden_layers": 2, "num_attention_heads": 4,
        "num_key_value_heads": 2, "vocab_size": 512, "max_position_embeddings": 256, "tie_word_embeddings": True,
        "rope_theta": 10000.0}
WORDS = ("data model train answer question explain reason step value function list number prime water energy "
         "history language python code result because therefore example simple complex river city music light").split()


def build_model_dir(*, config: dict, directory: Path, device) -> Path:
    """A randomly initialised Llama-architecture model + Arena's byte-level tokenizer, saved as a HF directory."""
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM

    from arena.model_loading.base_models import build_tiny_tokenizer

    tokenizer = build_tiny_tokenizer()
    llama = LlamaConfig(**config, pad_token_id=tokenizer.pad_token_id, eos_token_id=tokenizer.eos_token_id,
                        bos_token_id=None)
    torch.manual_seed(0)
    with torch.device(device):
        model = LlamaForCausalLM(llama)
    model.to(torch.bfloat16).save_pretrained(directory, safe_serialization=True)
    tokenizer.save_pretrained(directory)
    del model
    return directory


def write_samples(*, name: str, conversations: int, words_per_turn: int, seed: int = 0) -> str:
    """Multi-turn conversations in Arena's normalised sample schema, as a Parquet file in storage."""
    import pyarrow as pa
    import pyarrow.parquet as pq
    from django.core.files.storage import default_storage

    rng = random.Random(seed)

    def text(n):
        return " ".join(rng.choice(WORDS) for _ in range(n))

    rows = []
    for i in range(conversations):
        messages = []
        for _ in range(rng.randint(1, 3)):
            messages += [{"role": "user", "content": text(words_per_turn // 4) + "?"},
                         {"role": "assistant", "content": text(words_per_turn)}]
        rows.append({"id": str(i), "system": "", "messages": messages})
    path = Path(default_storage.path(name))
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(pa.Table.from_pylist(rows), path)
    return name


class _QuietReporter:
    """JobReporter's interface without a Job row: the metrics are read back from the callback."""

    def log(self, message): print("   ", message, flush=True)

    def update(self, *, force=False, **fields): pass

    def flush(self): pass


def sft_throughput(*, label: str, model_dir: Path | str, samples: str, seq: int, batch: int, steps: int, warmup: int,
                   use_cpu: bool, peak: float | None, weights_dir: Path | None = None, method: str = "full",
                   packing: bool = True) -> tuple[dict, object]:
    import torch
    from transformers import TrainerCallback

    from training.engine.callbacks import JobCallback
    from training.engine.sft import TrainSpec, train_model
    from training.flops import mfu
    from training.models import Recipe
    from training.recipes import RECIPE_FIELDS

    recipe = {f.name: f.get_default() for f in Recipe._meta.get_fields() if f.name in RECIPE_FIELDS}
    recipe.update(learning_rate=1e-5, epochs=1.0, batch_size=batch, gradient_accumulation=1, max_length=seq,
                  warmup_ratio=0.0, method=method, precision="fp32" if use_cpu else "bf16", packing=packing,
                  lora_rank=16, lora_alpha=32, lora_dropout=0.0)

    class Steady(TrainerCallback):
        def on_step_end(self, args, state, control, **kwargs):
            if state.global_step == warmup:
                if torch.cuda.is_available() and not use_cpu:
                    torch.cuda.synchronize()
                self.t0, self.tokens0 = time.perf_counter(), state.num_input_tokens_seen

        def on_train_end(self, args, state, control, **kwargs):
            if torch.cuda.is_available() and not use_cpu:
                torch.cuda.synchronize()
            self.seconds = time.perf_counter() - self.t0
            self.tokens = state.num_input_tokens_seen - self.tokens0

    steady, job_metrics = Steady(), {}

    def callbacks(parameters):
        return [steady, JobCallback(reporter=_QuietReporter(), should_stop=lambda: False, train_share=1.0,
                                    metrics=job_metrics, parameters=parameters, peak_flops=peak)]

    if torch.cuda.is_available() and not use_cpu:
        torch.cuda.reset_peak_memory_stats()
    spec = TrainSpec(base_model_path=str(model_dir), samples_file=samples, recipe=recipe, seed=0,
                     output_dir=str(WORK / f"out-{label}"), use_cpu=use_cpu, max_steps=steps, save_checkpoints=False,
                     weights_dir=str(weights_dir) if weights_dir else None)
    started = time.perf_counter()
    outcome = train_model(spec=spec, make_callbacks=callbacks)
    rate = steady.tokens / steady.seconds
    result = {
        "parameters": outcome.parameters, "method": method, "sequence_length": seq, "per_device_batch": batch,
        "packing": packing,
        "precision": recipe["precision"], "steps": outcome.steps, "warmup_steps_excluded": warmup,
        "steady_tokens_per_s": round(rate, 1), "steady_seconds": round(steady.seconds, 3),
        "job_tokens_per_s": job_metrics.get("train_tokens_per_s"), "job_mfu": job_metrics.get("mfu"),
        "loss_first": outcome.losses[0], "loss_last": outcome.losses[-1],
        "wall_seconds_incl_load_and_tokenize": round(time.perf_counter() - started, 1),
    }
    if peak:
        result["steady_mfu"] = round(mfu(parameters=outcome.parameters, tokens_per_s=rate, peak_flops=peak), 4)
    if torch.cuda.is_available() and not use_cpu:
        result["peak_gpu_memory_gib"] = round(torch.cuda.max_memory_allocated() / 2**30, 2)
    print(f"[{label}] {json.dumps(result)}", flush=True)
    return result, outcome


def generation_throughput(*, model, tokenizer, requests: int, max_gen_toks: int, batch: int) -> dict:
    """lm-evaluation-harness's HF backend generating for ``requests`` prompts (greedy, fixed length)."""
    import lm_eval
    from lm_eval.api.instance import Instance
    from lm_eval.models.huggingface import HFLM

    rng = random.Random(1)
    lm = HFLM(pretrained=model, tokenizer=tokenizer, batch_size=batch, max_length=1024)
    never = "\u2603never\u2603"  # a stop string random weights will not produce: every request runs max_gen_toks
    instances = [
        Instance(request_type="generate_until", doc={}, idx=i,
                 arguments=(" ".join(rng.choice(WORDS) for _ in range(rng.randint(20, 120))),
                            {"until": [never], "max_gen_toks": max_gen_toks, "do_sample": False}))
        for i in range(requests)
    ]
    lm.generate_until(instances[: min(batch, len(instances))])  # warm-up
    started = time.perf_counter()
    outputs = lm.generate_until(instances)
    seconds = time.perf_counter() - started
    generated = sum(len(tokenizer(o, add_special_tokens=False)["input_ids"]) for o in outputs)
    result = {"lm_eval": lm_eval.__version__, "backend": "hf (HFLM)", "requests": requests, "batch_size": batch,
              "max_gen_toks": max_gen_toks, "generated_tokens": generated, "seconds": round(seconds, 3),
              "generated_tokens_per_s": round(generated / seconds, 1),
              "requests_per_s": round(requests / seconds, 2)}
    print(f"[lm-eval generation] {json.dumps(result)}", flush=True)
    return result


def scorer_throughput(*, model_dir: Path, samples: int, batch: int, max_length: int) -> dict:
    from scoring.scorers.base import SampleText, build_scorer
    from scoring.scorers.perplexity import clear_loss_cache, scored_sequence

    rng = random.Random(2)
    items = [SampleText(idx=i, instruction=" ".join(rng.choice(WORDS) for _ in range(rng.randint(5, 60))) + "?",
                        response=" ".join(rng.choice(WORDS) for _ in range(rng.randint(20, 300))))
             for i in range(samples)]
    config = {"model_path": str(model_dir), "batch_size": batch, "max_length": max_length}
    scorer = build_scorer("ppl_qa", config=config)
    scorer.score_batch(items[:batch])  # warm-up (loads the model)
    clear_loss_cache()
    lm = scorer.lm
    tokens_qa = sum(len(scored_sequence(lm=lm, sample=s, kind="qa", max_length=max_length).ids) for s in items)
    tokens_a = sum(len(scored_sequence(lm=lm, sample=s, kind="a", max_length=max_length).ids) for s in items)
    started = time.perf_counter()
    scorer.score_batch(items)
    ppl_seconds = time.perf_counter() - started
    clear_loss_cache()
    started = time.perf_counter()
    build_scorer("ifd", config=config).score_batch(items)
    ifd_seconds = time.perf_counter() - started
    result = {"samples": samples, "batch_size": batch, "max_length": max_length, "device": str(lm.device),
              "ppl_qa_tokens_per_s": round(tokens_qa / ppl_seconds, 1),
              "ppl_qa_samples_per_s": round(samples / ppl_seconds, 1),
              "ifd_tokens_per_s": round((tokens_qa + tokens_a) / ifd_seconds, 1),
              "ifd_samples_per_s": round(samples / ifd_seconds, 1)}
    print(f"[scorers] {json.dumps(result)}", flush=True)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cpu-smoke", action="store_true", help="tiny sizes on CPU, to check the script itself")
    parser.add_argument("--out", default=str(ROOT / "bench" / "results"), help="directory of the results JSON")
    parser.add_argument("--only", default="abcd", help="which parts to run, e.g. 'bcd'")
    parser.add_argument("--warmup", type=int, default=None)
    args = parser.parse_args()

    import django

    django.setup()
    import torch

    from training.flops import gpu_peak_flops

    smoke = args.cpu_smoke
    if not smoke and not torch.cuda.is_available():
        sys.exit("no CUDA device: run on a GPU machine, or pass --cpu-smoke to check the script on CPU")
    device = "cpu" if smoke else "cuda"
    if smoke:
        os.environ["ARENA_DEVICE"] = "cpu"
        from django.conf import settings

        settings.ARENA_DEVICE = "cpu"
        torch.set_num_threads(1)
    gpu = "cpu" if smoke else torch.cuda.get_device_name()
    peak = None if smoke else gpu_peak_flops(gpu)
    warmup = args.warmup if args.warmup is not None else (1 if smoke else 5)
    import accelerate
    import peft
    import transformers
    import trl

    report = {
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "device": gpu, "bf16_dense_peak_tflops": peak / 1e12 if peak else None, "cpu_smoke": smoke,
        "versions": {"python": platform.python_version(), "torch": torch.__version__,
                     "cuda": torch.version.cuda, "transformers": transformers.__version__, "trl": trl.__version__,
                     "peft": peft.__version__, "accelerate": accelerate.__version__},
        "results": {},
    }
    print(f"device {gpu}, bf16 peak {report['bf16_dense_peak_tflops']} TFLOP/s, work dir {WORK}", flush=True)
    started = time.perf_counter()
    if "a" in args.only:
        config, seq, batch, steps = (TINY, 128, 2, 4) if smoke else (LLAMA_1B, 2048, 8, 30)
        model_dir = build_model_dir(config=config, directory=WORK / "llama-1b", device=device)
        samples = write_samples(name="gpu-check/a.parquet", conversations=16 if smoke else 1200, words_per_turn=60 if
                                smoke else 400)
        report["results"]["a_full_sft_llama_1b"], outcome = sft_throughput(
            label="a: full SFT, Llama ~1.1B" if not smoke else "a: full SFT, tiny Llama", model_dir=model_dir,
            samples=samples, seq=seq, batch=batch, steps=steps, warmup=warmup, use_cpu=smoke, peak=peak)
        del outcome
        torch.cuda.empty_cache() if torch.cuda.is_available() else None
    smol_dir = WORK / "smollm2-135m"
    weights = WORK / "smollm2-135m-trained"
    small = None
    if "b" in args.only or "c" in args.only or "d" in args.only:
        config, seq, batch, steps = (TINY, 128, 2, 4) if smoke else (SMOLLM2_135M, 2048, 16, 40)
        build_model_dir(config=config, directory=smol_dir, device=device)
        samples = write_samples(name="gpu-check/b.parquet", conversations=16 if smoke else 1200,
                                words_per_turn=60 if smoke else 400, seed=1)
        report["results"]["b_full_sft_smollm2_135m"], small = sft_throughput(
            label="b: full SFT, tiny Llama" if smoke else "b: full SFT, SmolLM2-135M architecture", model_dir=smol_dir,
            samples=samples, seq=seq, batch=batch, steps=steps, warmup=warmup, use_cpu=smoke, peak=peak,
            weights_dir=weights)
    if "c" in args.only:
        report["results"]["c_lm_eval_generation"] = generation_throughput(
            model=small.model.to(torch.bfloat16) if not smoke else small.model, tokenizer=small.tokenizer,
            requests=8 if smoke else 256, max_gen_toks=8 if smoke else 256, batch=4 if smoke else 64)
    if "d" in args.only:
        report["results"]["d_scorers_ppl_ifd"] = scorer_throughput(
            model_dir=weights, samples=8 if smoke else 2000, batch=4 if smoke else 64,
            max_length=256 if smoke else 1024)
    report["total_seconds"] = round(time.perf_counter() - started, 1)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    slug = re.sub(r"[^A-Za-z0-9]+", "-", gpu).strip("-").lower()
    path = out / f"{datetime.date.today().isoformat()}-{slug}.json"
    path.write_text(json.dumps(report, indent=2) + "\n")
    print(f"results written to {path} ({report['total_seconds']} s)", flush=True)


if __name__ == "__main__":
    main()
