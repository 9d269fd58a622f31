"""The SFT loop itself (no database): label masking, determinism, exact resume, cancellation, LoRA, schedules."""
from __future__ import annotations

import pytest
import torch

from training.demo.datasets import clean
from training.model_loading import load_model_and_tokenizer
from training.sft.data import IGNORE_INDEX, encode_conversation
from training.sft.lora import LoRALinear
from training.sft.runtime import Runtime
from training.sft.schedule import lr_multiplier
from training.sft.trainer import TrainConfig, train
from tests.training.conftest import TINY_PATH

CPU = Runtime(device=torch.device("cpu"))


class Hooks:
    def __init__(self, stop_after: int | None = None):
        self.steps: list[int] = []
        self.checkpoints: list[int] = []
        self.stop_after = stop_after

    def on_step(self, *, step, total_steps, loss, tokens):
        self.steps.append(step)

    def on_checkpoint(self, *, step, epoch_end):
        self.checkpoints.append(step)

    def should_stop(self):
        return self.stop_after is not None and len(self.steps) >= self.stop_after


def _setup(n=48):
    model, tokenizer = load_model_and_tokenizer(path=TINY_PATH, device=torch.device("cpu"))
    examples = [encode_conversation(tokenizer, r["messages"], max_length=48) for r in clean(size=n)]
    return model, tokenizer, examples


def _config(**overrides):
    values = dict(learning_rate=3e-3, epochs=2.0, batch_size=8, gradient_accumulation=2, scheduler="cosine",
                  warmup_ratio=0.1, weight_decay=0.01, seed=7, checkpoint_every=2)
    values.update(overrides)
    return TrainConfig(**values)


def test_only_assistant_tokens_are_labelled():
    _, tokenizer, _ = _setup(3)
    messages = [{"role": "system", "content": "be brief"}, {"role": "user", "content": "What is 2+3?"},
                {"role": "assistant", "content": "5"}, {"role": "user", "content": "and 1+1?"},
                {"role": "assistant", "content": "2"}]
    example = encode_conversation(tokenizer, messages, max_length=200)
    learnt = tokenizer.decode([t for t, label in zip(example.input_ids, example.labels) if label != IGNORE_INDEX])
    assert learnt == "5<|end|>2<|end|>"
    full = tokenizer.decode(example.input_ids)
    assert full == tokenizer.apply_chat_template(messages, tokenize=False)


def _weights(model):
    return torch.cat([p.detach().flatten() for p in model.parameters()])


def test_same_seed_same_model_and_losses_go_down(tmp_path):
    model_a, tok, examples = _setup()
    hooks = Hooks()
    outcome_a = train(model=model_a, examples=examples, pad_id=tok.pad_token_id, config=_config(),
                      checkpoint_root=str(tmp_path / "a"), runtime=CPU, hooks=hooks)
    model_b, _, _ = _setup()
    outcome_b = train(model=model_b, examples=examples, pad_id=tok.pad_token_id, config=_config(),
                      checkpoint_root=str(tmp_path / "b"), runtime=CPU, hooks=Hooks())
    # 48 examples / batch 8 = 6 micro-batches, 2 per step -> 3 steps per epoch, 6 in all
    assert outcome_a.total_steps == 6 and hooks.steps == [1, 2, 3, 4, 5, 6]
    assert hooks.checkpoints == [2, 3, 4, 6]  # every 2 steps and at each epoch end (3, 6)
    assert outcome_a.losses == outcome_b.losses
    assert torch.equal(_weights(model_a), _weights(model_b))
    assert outcome_a.losses[-1] < outcome_a.losses[0]


def test_resume_after_interruption_gives_the_same_model(tmp_path):
    model_full, tok, examples = _setup()
    train(model=model_full, examples=examples, pad_id=tok.pad_token_id, config=_config(),
          checkpoint_root=str(tmp_path / "full"), runtime=CPU, hooks=Hooks())

    model_1, _, _ = _setup()
    first = train(model=model_1, examples=examples, pad_id=tok.pad_token_id, config=_config(),
                  checkpoint_root=str(tmp_path / "resumed"), runtime=CPU, hooks=Hooks(stop_after=4))
    assert first.cancelled and first.steps == 4
    model_2, _, _ = _setup()  # a fresh process: fresh model, state only from the checkpoint
    hooks = Hooks()
    second = train(model=model_2, examples=examples, pad_id=tok.pad_token_id, config=_config(),
                   checkpoint_root=str(tmp_path / "resumed"), runtime=CPU, hooks=hooks)
    assert second.resumed_from_step == 4
    assert hooks.steps == [5, 6]
    assert torch.allclose(_weights(model_2), _weights(model_full), atol=1e-6)


def test_lora_trains_only_the_adapters(tmp_path):
    model, tok, examples = _setup()
    before = {n: p.detach().clone() for n, p in model.named_parameters()}
    outcome = train(model=model, examples=examples, pad_id=tok.pad_token_id,
                    config=_config(method="lora", lora_rank=4, lora_alpha=8, epochs=1.0),
                    checkpoint_root=str(tmp_path), runtime=CPU, hooks=Hooks())
    assert outcome.steps == 3
    wrapped = [m for m in model.modules() if isinstance(m, LoRALinear)]
    assert len(wrapped) == 7  # q, k, v, o, gate, up, down of the one layer
    for name, parameter in model.named_parameters():
        if "lora_" in name:
            assert parameter.requires_grad
        else:
            assert not parameter.requires_grad
            original = name.replace(".base.", ".")
            assert torch.equal(parameter, before[original]), name
    assert any(not torch.all(m.lora_b == 0) for m in wrapped)


@pytest.mark.parametrize("kind, expected", [("constant", [0.5, 1.0, 1.0, 1.0]), ("linear", [0.5, 1.0, 1.0, 0.5]),
                                            ("cosine", [0.5, 1.0, 1.0, 0.5])])
def test_schedules_warm_up_then_decay(kind, expected):
    got = [lr_multiplier(s, total_steps=4, warmup_steps=2, kind=kind) for s in range(4)]
    assert got == pytest.approx(expected, abs=1e-9)
