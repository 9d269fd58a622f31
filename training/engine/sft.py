"""Supervised fine-tuning of a job through TRL's ``SFTTrainer`` (transformers Trainer + accelerate), PEFT LoRA/QLoRA.

``train_model`` is the one code path of every fine-tune (Celery worker, ``accelerate launch``, the GPU check):
the recipe becomes an ``SFTConfig`` (assistant-only loss on the tokenizer's chat template with
``{% generation %}`` markers, optional packing, precision, schedule, seed), checkpoints go to the job's work
directory every ``checkpoint_every`` steps and a restarted job resumes from the newest one. The trained model
comes back merged (LoRA folded into the base weights) and, when asked, saved as safetensors + tokenizer.
"""
from __future__ import annotations

import logging
import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path

import torch

from arena.errors import InvalidInput
from arena.storage import iter_batches
from training.engine.chat_template import training_chat_template
from arena.model_loading.base_models import load_pretrained, parameter_count

logger = logging.getLogger(__name__)
ENGINE_LOGGERS = ("transformers", "trl", "peft", "accelerate", "datasets", "training.engine")


@dataclass
class TrainSpec:
    """What one fine-tune needs; built from a Job (training.job_runner) or directly (bench, tests)."""

    base_model_path: str
    samples_file: str
    recipe: dict  # training.recipes.recipe_values()
    seed: int
    output_dir: str  # checkpoints
    use_cpu: bool = False
    checkpoint_every: int = 200  # optimizer steps; 0 = at each epoch end
    weights_dir: str | None = None  # where to keep the merged model (main process), None = not kept
    max_steps: int = -1  # benchmarks stop early; jobs train the recipe's epochs
    save_checkpoints: bool = True  # jobs always checkpoint (resume); throughput benchmarks need not


@dataclass
class TrainOutcome:
    model: object | None  # the merged, trained model (main process; None elsewhere or when cancelled)
    tokenizer: object
    steps: int
    total_steps: int
    cancelled: bool
    losses: list[float] = field(default_factory=list)
    train_examples: int = 0
    parameters: int = 0


def conversation_of(row: dict) -> list[dict]:
    messages = [{"role": m["role"], "content": m["content"]} for m in row["messages"]]
    if row.get("system") and (not messages or messages[0]["role"] != "system"):
        messages.insert(0, {"role": "system", "content": row["system"]})
    return messages


def sft_dataset(*, samples_file: str, max_samples: int | None):
    """A dataset's normalised samples (file order) as a conversational ``datasets.Dataset`` of ``messages``."""
    from datasets import Dataset

    rows: list[dict] = []
    for batch in iter_batches(samples_file, columns=["system", "messages"]):
        for row in batch.to_pylist():
            if max_samples is not None and len(rows) >= max_samples:
                break
            rows.append({"messages": conversation_of(row)})
    if not rows:
        raise InvalidInput("the dataset has no samples to train on")
    return Dataset.from_list(rows)


def resolve_precision(precision: str, *, use_cpu: bool) -> str:
    """``auto`` -> bf16 on GPUs that support it, else fp32; fp16/bf16 need what they need."""
    cuda = torch.cuda.is_available() and not use_cpu
    if precision == "auto":
        return "bf16" if cuda and torch.cuda.is_bf16_supported() else "fp32"
    if precision == "fp16" and not cuda:
        raise InvalidInput("recipe precision fp16 needs a CUDA GPU; use fp32 or bf16 on CPU")
    return precision


def attention_implementation(*, use_cpu: bool, precision: str) -> str:
    """FlashAttention 2 where it is installed on a GPU (exact padding-free packing at full speed), else SDPA."""
    import importlib.util

    cuda = torch.cuda.is_available() and not use_cpu
    if cuda and precision in ("bf16", "fp16") and importlib.util.find_spec("flash_attn") is not None:
        return "flash_attention_2"
    return "sdpa"


def packing_strategy(*, attention: str, use_cpu: bool) -> str:
    """Best-fit packing without cross-sample attention ('bfd', padding-free) needs varlen kernels to be fast on a
    GPU; with SDPA on a GPU it would attend over the whole flattened batch, so sequences are packed back to back
    ('wrapped', the classic packing) instead. CPU runs keep the exact 'bfd'."""
    if attention.startswith("flash") or use_cpu or not torch.cuda.is_available():
        return "bfd"
    logger.warning("packing: flash-attn is not installed, using 'wrapped' packing (samples share attention "
                   "windows); install flash-attn for exact padding-free packing")
    return "wrapped"


def sft_config(spec: TrainSpec, *, attention: str = "sdpa"):
    from trl import SFTConfig

    r = spec.recipe
    precision = resolve_precision(r["precision"], use_cpu=spec.use_cpu)
    scheduler = "constant_with_warmup" if r["scheduler"] == "constant" else r["scheduler"]
    cuda = torch.cuda.is_available() and not spec.use_cpu
    # Always explicit: TRL defaults it to True. Renamed activation_checkpointing in transformers 5.
    name = "activation_checkpointing" if "activation_checkpointing" in SFTConfig.__dataclass_fields__ else \
        "gradient_checkpointing"
    checkpointing = {name: r["gradient_checkpointing"]}
    return SFTConfig(
        output_dir=spec.output_dir,
        seed=spec.seed,
        data_seed=spec.seed,
        use_cpu=spec.use_cpu,
        learning_rate=r["learning_rate"],
        num_train_epochs=r["epochs"],
        max_steps=spec.max_steps,
        per_device_train_batch_size=r["batch_size"],
        gradient_accumulation_steps=r["gradient_accumulation"],
        lr_scheduler_type=scheduler,
        warmup_steps=r["warmup_ratio"],  # a float < 1 is a ratio of the total steps
        weight_decay=r["weight_decay"],
        max_grad_norm=r["max_grad_norm"],
        bf16=precision == "bf16",
        fp16=precision == "fp16",
        **checkpointing,
        optim="adamw_torch_fused" if cuda else "adamw_torch",
        max_length=r["max_length"],
        packing=r["packing"],
        packing_strategy=packing_strategy(attention=attention, use_cpu=spec.use_cpu) if r["packing"] else "bfd",
        assistant_only_loss=True,
        logging_steps=1,
        save_strategy=("steps" if spec.checkpoint_every else "epoch") if spec.save_checkpoints else "no",
        save_steps=spec.checkpoint_every or 500,
        save_total_limit=1,
        include_num_input_tokens_seen="non_padding",
        report_to=[],
        disable_tqdm=True,
        dataloader_num_workers=0,
        dataset_num_proc=None,
    )


def peft_config(recipe: dict):
    if recipe["method"] not in ("lora", "qlora"):
        return None
    from peft import LoraConfig

    modules = recipe["lora_target_modules"]
    return LoraConfig(
        r=recipe["lora_rank"], lora_alpha=recipe["lora_alpha"], lora_dropout=recipe["lora_dropout"],
        target_modules=modules if modules == "all-linear" else modules.split(","), task_type="CAUSAL_LM",
    )


def _model_kwargs(recipe: dict, *, use_cpu: bool) -> dict:
    if recipe["method"] != "qlora":
        return {"dtype": torch.float32}
    if use_cpu or not torch.cuda.is_available():
        raise InvalidInput("recipe method qlora loads the base model in 4 bits and needs a CUDA GPU")
    try:
        from transformers import BitsAndBytesConfig
        import bitsandbytes  # noqa: F401
    except ImportError:
        raise InvalidInput("recipe method qlora needs bitsandbytes on the GPU worker (pip install bitsandbytes)") from None
    quantization = BitsAndBytesConfig(load_in_4bit=True, bnb_4bit_quant_type="nf4",
                                      bnb_4bit_compute_dtype=torch.bfloat16, bnb_4bit_use_double_quant=True)
    return {"dtype": torch.bfloat16, "quantization_config": quantization}


def latest_checkpoint(output_dir: str) -> str | None:
    from transformers.trainer_utils import get_last_checkpoint

    return get_last_checkpoint(output_dir) if os.path.isdir(output_dir) else None


def train_model(*, spec: TrainSpec, make_callbacks) -> TrainOutcome:
    """Fine-tune ``spec.base_model_path`` on ``spec.samples_file``; resumes from the newest checkpoint in
    ``spec.output_dir``. ``make_callbacks(parameters)`` returns the TrainerCallbacks of this run."""
    import datasets
    import transformers
    from transformers import PrinterCallback, ProgressCallback
    from trl import SFTTrainer

    datasets.disable_progress_bars()  # progress goes to the Job row, not to a worker's stderr
    transformers.utils.logging.disable_progress_bar()
    precision = resolve_precision(spec.recipe["precision"], use_cpu=spec.use_cpu)
    attention = attention_implementation(use_cpu=spec.use_cpu, precision=precision)
    args = sft_config(spec, attention=attention)  # before the model: under ZeRO-3 the weights load sharded
    model, tokenizer = load_pretrained(path=spec.base_model_path, attn_implementation=attention,
                                       **_model_kwargs(spec.recipe, use_cpu=spec.use_cpu))
    tokenizer.chat_template = training_chat_template(tokenizer)
    tokenizer.padding_side = "right"
    parameters = parameter_count(model)
    dataset = sft_dataset(samples_file=spec.samples_file, max_samples=spec.recipe["max_samples"])
    callbacks = make_callbacks(parameters)
    trainer = SFTTrainer(model=model, args=args, train_dataset=dataset, processing_class=tokenizer,
                         peft_config=peft_config(spec.recipe), callbacks=callbacks)
    for noisy in (PrinterCallback, ProgressCallback):
        trainer.remove_callback(noisy)
    if len(trainer.train_dataset) == 0:
        raise InvalidInput("the dataset has no sample with assistant tokens inside max_length: nothing to train on")
    trainer.train(resume_from_checkpoint=latest_checkpoint(spec.output_dir))
    cancelled = any(getattr(c, "cancelled", False) for c in callbacks)
    losses = [entry["loss"] for entry in trainer.state.log_history if "loss" in entry]
    outcome = TrainOutcome(model=None, tokenizer=tokenizer, steps=trainer.state.global_step,
                           total_steps=trainer.state.max_steps, cancelled=cancelled, losses=losses,
                           train_examples=len(trainer.train_dataset), parameters=parameters)
    tokenizer.padding_side = "left"
    if not cancelled:
        outcome.model = _finished_model(trainer, spec=spec)
    return outcome


def _finished_model(trainer, *, spec: TrainSpec):
    """The trained model with LoRA merged, on the main process, saved to ``spec.weights_dir`` when given.

    One process: merged in memory. Several (DDP/FSDP/ZeRO-3): every rank takes part in ``save_model``
    (which gathers sharded weights), then the main process loads the full model back for evaluation."""
    tokenizer = trainer.processing_class
    sharded = trainer.args.world_size > 1
    adapters = spec.recipe["method"] in ("lora", "qlora")
    if not sharded and spec.recipe["method"] != "qlora":
        model = trainer.model.merge_and_unload() if adapters else trainer.model
        model.eval()
        if spec.weights_dir:
            save_weights(model=model, tokenizer=tokenizer, directory=spec.weights_dir)
        return model
    stage = Path(spec.output_dir) / "final"
    trainer.save_model(str(stage))  # collective under FSDP/ZeRO-3: every rank calls it
    trainer.accelerator.wait_for_everyone()
    if not trainer.is_world_process_zero():
        return None
    if adapters:  # merge into a full-precision copy of the base model, never into 4-bit weights
        from peft import PeftModel

        base, _ = load_pretrained(path=spec.base_model_path, dtype=torch.bfloat16 if spec.recipe["method"] == "qlora"
                                  else torch.float32)
        model = PeftModel.from_pretrained(base, str(stage)).merge_and_unload()
    else:
        from transformers import AutoModelForCausalLM

        model = AutoModelForCausalLM.from_pretrained(str(stage), attn_implementation="sdpa")
    device = trainer.args.device
    model.to(device).eval()
    if spec.weights_dir:
        save_weights(model=model, tokenizer=tokenizer, directory=spec.weights_dir)
    shutil.rmtree(stage, ignore_errors=True)
    return model


def save_weights(*, model, tokenizer, directory: str) -> None:
    """safetensors + config + tokenizer into ``directory``, written beside it and renamed into place."""
    target = Path(directory)
    partial = target.with_name(target.name + ".partial")
    shutil.rmtree(partial, ignore_errors=True)
    partial.parent.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(partial, safe_serialization=True)
    tokenizer.save_pretrained(partial)
    shutil.rmtree(target, ignore_errors=True)
    os.replace(partial, target)
