"""The SFT training loop: deterministic, resumable, cancellable, with gradient accumulation.

Not HF Trainer: the loop is short so that progress reporting, cancellation and checkpoints
(end of each epoch and every ``checkpoint_every`` optimizer steps) are under Arena's control.

Determinism: the sample order of epoch ``e`` is a permutation drawn from a generator seeded with
``seed`` and ``e``, so step ``t`` always sees the same micro-batches, whether or not the run was
resumed. RNG states are saved in checkpoints too.
"""
from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from typing import Protocol

import torch

from training.sft.checkpoint import load_latest, restore_rng, save_checkpoint
from training.sft.data import Example, collate
from training.sft.lora import apply_lora
from training.sft.runtime import Runtime
from training.sft.schedule import build_scheduler


@dataclass(frozen=True)
class TrainConfig:
    learning_rate: float
    epochs: float
    batch_size: int
    gradient_accumulation: int
    scheduler: str
    warmup_ratio: float
    weight_decay: float
    method: str = "full"
    lora_rank: int = 16
    lora_alpha: int = 32
    seed: int = 0
    checkpoint_every: int = 0  # optimizer steps; 0 = only at epoch ends
    max_grad_norm: float = 1.0


class TrainHooks(Protocol):
    def on_step(self, *, step: int, total_steps: int, loss: float, tokens: int) -> None: ...
    def on_checkpoint(self, *, step: int, epoch_end: bool) -> None: ...
    def should_stop(self) -> bool: ...


@dataclass
class TrainOutcome:
    steps: int
    total_steps: int
    resumed_from_step: int | None
    cancelled: bool
    tokens: int = 0
    seconds: float = 0.0
    losses: list[float] = field(default_factory=list)

    @property
    def tokens_per_second(self) -> float:
        return self.tokens / self.seconds if self.seconds > 0 else 0.0


def plan_steps(*, n_examples: int, batch_size: int, gradient_accumulation: int, epochs: float, world_size: int = 1):
    """(micro-batches per epoch, optimizer steps per epoch, total optimizer steps)."""
    micro = math.ceil(n_examples / batch_size)
    per_step = gradient_accumulation * world_size
    steps_per_epoch = math.ceil(micro / per_step)
    total = max(1, math.ceil(epochs * steps_per_epoch))
    return micro, steps_per_epoch, total


def epoch_order(*, n_examples: int, seed: int, epoch: int) -> list[int]:
    generator = torch.Generator().manual_seed(seed * 1_000_003 + epoch)
    return torch.randperm(n_examples, generator=generator).tolist()


def prepare_model(model, config: TrainConfig):
    if config.method == "lora":
        apply_lora(model, rank=config.lora_rank, alpha=config.lora_alpha)
    elif config.method != "full":
        raise ValueError(f"unknown training method {config.method!r}; expected full or lora")
    return model


def train(
    *,
    model,
    examples: list[Example],
    pad_id: int,
    config: TrainConfig,
    checkpoint_root: str,
    runtime: Runtime,
    hooks: TrainHooks,
) -> TrainOutcome:
    """Train ``model`` in place. Resumes from the newest checkpoint under ``checkpoint_root`` if there is one."""
    device = runtime.device
    prepare_model(model, config)
    trainable = [p for p in model.parameters() if p.requires_grad]
    decay = [p for p in trainable if p.ndim >= 2]
    no_decay = [p for p in trainable if p.ndim < 2]
    optimizer = torch.optim.AdamW(
        [{"params": decay, "weight_decay": config.weight_decay}, {"params": no_decay, "weight_decay": 0.0}],
        lr=config.learning_rate,
        betas=(0.9, 0.95),
        fused=device.type == "cuda",
    )
    micro_per_epoch, steps_per_epoch, total_steps = plan_steps(
        n_examples=len(examples),
        batch_size=config.batch_size,
        gradient_accumulation=config.gradient_accumulation,
        epochs=config.epochs,
        world_size=runtime.world_size,
    )
    scheduler = build_scheduler(optimizer, total_steps=total_steps, warmup_ratio=config.warmup_ratio, kind=config.scheduler)

    torch.manual_seed(config.seed)
    start_step = 0
    resumed_from = None
    state = load_latest(checkpoint_root)
    if state is not None:
        if state.get("total_steps") != total_steps:
            raise ValueError(
                f"checkpoint in {checkpoint_root} was written for {state.get('total_steps')} steps, this run plans "
                f"{total_steps}: the recipe or dataset changed; retry the job to start over"
            )
        model.load_state_dict(state["model"])
        optimizer.load_state_dict(state["optimizer"])
        scheduler.load_state_dict(state["scheduler"])
        restore_rng(state["rng"])
        start_step = resumed_from = state["step"]
    outcome = TrainOutcome(steps=start_step, total_steps=total_steps, resumed_from_step=resumed_from, cancelled=False)
    if start_step >= total_steps:
        return outcome

    wrapped = runtime.wrap(model)
    wrapped.train()
    autocast = (
        torch.autocast("cuda", dtype=torch.bfloat16) if device.type == "cuda" else torch.autocast("cpu", enabled=False)
    )
    per_step = config.gradient_accumulation * runtime.world_size
    order_epoch, order = -1, []
    started = time.perf_counter()
    for step in range(start_step, total_steps):
        epoch, step_in_epoch = divmod(step, steps_per_epoch)
        if epoch != order_epoch:
            order, order_epoch = epoch_order(n_examples=len(examples), seed=config.seed, epoch=epoch), epoch
        first_micro = step_in_epoch * per_step
        micro_ids = list(range(first_micro, min(first_micro + per_step, micro_per_epoch)))
        batches = [
            [examples[i] for i in order[m * config.batch_size:(m + 1) * config.batch_size]] for m in micro_ids
        ]
        step_tokens = sum(e.trained_tokens for batch in batches for e in batch)  # normaliser over the whole step
        mine = batches[runtime.rank::runtime.world_size]
        optimizer.zero_grad(set_to_none=True)
        step_loss = 0.0
        for k, batch in enumerate(mine):
            tensors = {key: value.to(device) for key, value in collate(batch, pad_id=pad_id).items()}
            with runtime.no_sync(wrapped, last_micro_step=k == len(mine) - 1), autocast:
                logits = wrapped(input_ids=tensors["input_ids"], attention_mask=tensors["attention_mask"]).logits
                shift_logits = logits[:, :-1].float()
                shift_labels = tensors["labels"][:, 1:]
                loss_sum = torch.nn.functional.cross_entropy(
                    shift_logits.reshape(-1, shift_logits.size(-1)), shift_labels.reshape(-1), ignore_index=-100,
                    reduction="sum",
                )
                loss = loss_sum * runtime.world_size / max(step_tokens, 1)
                loss.backward()
            step_loss += loss_sum.item()
            outcome.tokens += int(tensors["attention_mask"].sum().item())
        if config.max_grad_norm:
            torch.nn.utils.clip_grad_norm_(trainable, config.max_grad_norm)
        optimizer.step()
        scheduler.step()
        outcome.steps = step + 1
        mean_loss = step_loss / max(step_tokens, 1) * runtime.world_size
        outcome.losses.append(mean_loss)
        outcome.seconds = time.perf_counter() - started
        if runtime.is_main:
            hooks.on_step(step=step + 1, total_steps=total_steps, loss=mean_loss, tokens=outcome.tokens)
        epoch_end = (step + 1) % steps_per_epoch == 0 or step + 1 == total_steps
        periodic = config.checkpoint_every and (step + 1) % config.checkpoint_every == 0
        if epoch_end or periodic:
            if runtime.is_main:
                save_checkpoint(
                    checkpoint_root, step=step + 1, model=model, optimizer=optimizer, scheduler=scheduler,
                    extra={"total_steps": total_steps, "epoch": epoch, "complete": step + 1 == total_steps},
                )
                hooks.on_checkpoint(step=step + 1, epoch_end=bool(epoch_end))
            runtime.barrier()
        if step + 1 < total_steps and runtime.any_rank(runtime.is_main and hooks.should_stop()):
            outcome.cancelled = True
            break
    outcome.seconds = time.perf_counter() - started
    wrapped.eval()
    return outcome
