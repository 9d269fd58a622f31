"""The engine path (TRL SFTTrainer + PEFT) on the tiny config model: masking, seeds, resume, cancel, LoRA, packing."""
from __future__ import annotations

import pytest
import torch
from transformers import TrainerCallback

from arena.errors import InvalidInput
from training.engine.callbacks import JobCallback
from training.engine.chat_template import training_chat_template
from training.engine.sft import TrainSpec, train_model
from arena.model_loading.base_models import build_tiny_tokenizer, load_pretrained
from training.models import Recipe
from training.recipes import RECIPE_FIELDS
from tests.training.conftest import TINY_PATH

pytestmark = pytest.mark.django_db

SMOLLM2_TEMPLATE = (  # SmolLM2-135M-Instruct's stock ChatML template (no generation markers)
    "{% for message in messages %}{% if loop.first and messages[0]['role'] != 'system' %}{{ '<|im_start|>system\\nYou "
    "are a helpful AI assistant named SmolLM, trained by Hugging Face<|im_end|>\\n' }}{% endif %}{{'<|im_start|>' + "
    "message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n'}}{% endfor %}{% if add_generation_prompt %}"
    "{{ '<|im_start|>assistant\\n' }}{% endif %}"
)
CONVERSATION = [{"role": "system", "content": "be brief"}, {"role": "user", "content": "What is 2+3?"},
                {"role": "assistant", "content": "5"}, {"role": "user", "content": "and 1+1?"},
                {"role": "assistant", "content": "2"}]


def _recipe(**overrides) -> dict:
    defaults = {f.name: f.get_default() for f in Recipe._meta.get_fields() if f.name in RECIPE_FIELDS}
    values = {**defaults, "learning_rate": 3e-3, "epochs": 2.0, "batch_size": 8, "gradient_accumulation": 2,
              "max_length": 48, "warmup_ratio": 0.1, "weight_decay": 0.01, "precision": "fp32"}
    return {**values, **overrides}


def _spec(dataset, tmp_path, name="run", **recipe) -> TrainSpec:
    return TrainSpec(base_model_path=TINY_PATH, samples_file=dataset.samples_file, recipe=_recipe(**recipe), seed=7,
                     output_dir=str(tmp_path / name), use_cpu=True, checkpoint_every=2)


class Recorder(TrainerCallback):
    """Records steps; ``crash_at`` raises like a dying process, ``stop_after`` asks to stop like a cancel."""

    def __init__(self, crash_at=None):
        self.steps, self.saves, self.crash_at = [], [], crash_at

    def on_step_end(self, args, state, control, **kwargs):
        self.steps.append(state.global_step)
        if state.global_step == self.crash_at:
            raise KeyboardInterrupt("simulated crash")

    def on_save(self, args, state, control, **kwargs):
        self.saves.append(state.global_step)


def _weights(model) -> torch.Tensor:
    return torch.cat([p.detach().flatten() for p in model.parameters()])


def _labelled_text(tokenizer, chat_template: str, dataset) -> tuple[str, str]:
    """(text of the tokens with a label, full text) of the first sample as TRL prepares it."""
    from trl import SFTConfig, SFTTrainer

    model, _ = load_pretrained(path=TINY_PATH)
    tokenizer.chat_template = chat_template
    args = SFTConfig(output_dir="/tmp/unused", use_cpu=True, assistant_only_loss=True, max_length=512, report_to=[])
    trainer = SFTTrainer(model=model, args=args, train_dataset=dataset, processing_class=tokenizer)
    row = trainer.train_dataset[0]
    learnt = tokenizer.decode([t for t, label in zip(row["input_ids"], row["labels"]) if label != -100])
    return learnt, tokenizer.decode(row["input_ids"])


def test_only_assistant_tokens_are_labelled_in_every_turn():
    from datasets import Dataset

    tokenizer = build_tiny_tokenizer()
    learnt, full = _labelled_text(tokenizer, training_chat_template(tokenizer), Dataset.from_list([{"messages": CONVERSATION}]))
    assert learnt == "5<|end|>2<|end|>"
    assert full == tokenizer.apply_chat_template(CONVERSATION, tokenize=False)


def test_chatml_templates_are_patched_without_changing_what_they_render():
    from datasets import Dataset

    tokenizer = build_tiny_tokenizer()
    tokenizer.chat_template = SMOLLM2_TEMPLATE
    patched = training_chat_template(tokenizer)
    assert "{% generation %}" in patched
    for messages in (CONVERSATION, CONVERSATION[1:]):
        assert (tokenizer.apply_chat_template(messages, tokenize=False, chat_template=patched)
                == tokenizer.apply_chat_template(messages, tokenize=False, chat_template=SMOLLM2_TEMPLATE))
    learnt, _ = _labelled_text(tokenizer, patched, Dataset.from_list([{"messages": CONVERSATION}]))
    assert learnt == "5<|im_end|>2<|im_end|>"


def test_a_template_nobody_can_patch_is_a_clear_error():
    tokenizer = build_tiny_tokenizer()
    tokenizer.chat_template = "{% for m in messages %}[{{ m['role'] }}] {{ m['content'] }}\n{% endfor %}"
    with pytest.raises(InvalidInput, match="no {% generation %} markers"):
        training_chat_template(tokenizer)


def test_same_seed_is_bit_identical_and_loss_goes_down(make_dataset, tmp_path):
    dataset = make_dataset(size=48)
    first = train_model(spec=_spec(dataset, tmp_path, "a"), make_callbacks=lambda n: [Recorder()])
    second = train_model(spec=_spec(dataset, tmp_path, "b"), make_callbacks=lambda n: [Recorder()])
    # 48 examples / batch 8 = 6 micro-batches, 2 per step -> 3 steps per epoch, 6 in all
    assert first.total_steps == 6 and len(first.losses) == 6
    assert first.losses == second.losses
    assert torch.equal(_weights(first.model), _weights(second.model))
    assert first.losses[-1] < first.losses[0]
    other_seed = _spec(dataset, tmp_path, "c")
    other_seed.seed = 8
    assert train_model(spec=other_seed, make_callbacks=lambda n: []).losses != first.losses


def test_resume_after_a_crash_equals_the_uninterrupted_run(make_dataset, tmp_path):
    dataset = make_dataset(size=48)
    full = train_model(spec=_spec(dataset, tmp_path, "full"), make_callbacks=lambda n: [Recorder()])
    crashed = Recorder(crash_at=5)
    with pytest.raises(KeyboardInterrupt):
        train_model(spec=_spec(dataset, tmp_path, "resumed"), make_callbacks=lambda n: [crashed])
    assert crashed.saves == [2, 4]
    again = Recorder()
    resumed = train_model(spec=_spec(dataset, tmp_path, "resumed"), make_callbacks=lambda n: [again])
    assert again.steps == [5, 6]  # continued from checkpoint-4, did not start over
    assert resumed.losses == full.losses  # log history restored + the same two last steps
    assert torch.equal(_weights(resumed.model), _weights(full.model))


def test_cancel_stops_at_the_next_step(make_dataset, tmp_path):
    from training.job_progress import JobReporter

    class Reporter(JobReporter):
        def flush(self):
            self._pending.clear()
            self._fields.clear()

    recorder = Recorder()

    def callbacks(parameters):
        return [recorder, JobCallback(reporter=Reporter(0), should_stop=lambda: len(recorder.steps) >= 2,
                                      train_share=0.8, metrics={}, parameters=parameters, poll_interval=0)]

    outcome = train_model(spec=_spec(dataset := make_dataset(size=48), tmp_path), make_callbacks=callbacks)
    assert outcome.cancelled and outcome.steps == 2 and outcome.model is None
    assert recorder.steps == [1, 2] and dataset


def test_lora_trains_adapters_then_merges_and_the_kept_weights_reload(make_dataset, tmp_path):
    dataset = make_dataset(size=48)
    base, _ = load_pretrained(path=TINY_PATH)
    spec = _spec(dataset, tmp_path, method="lora", lora_rank=4, lora_alpha=8, lora_target_modules="q_proj,v_proj",
                 learning_rate=1e-2, epochs=1.0)
    spec.weights_dir = str(tmp_path / "weights")
    outcome = train_model(spec=spec, make_callbacks=lambda n: [])
    model = outcome.model
    assert not any("lora" in name for name, _ in model.named_parameters())  # merged, a plain Llama again
    changed = {name for name, p in model.named_parameters() if not torch.equal(p, dict(base.named_parameters())[name])}
    assert changed and all(name.endswith(("q_proj.weight", "v_proj.weight")) for name in changed)
    reloaded, tokenizer = load_pretrained(path=spec.weights_dir)  # a plain HF directory: usable as a base model
    ids = tokenizer.apply_chat_template(CONVERSATION, return_tensors="pt", return_dict=True)["input_ids"]
    with torch.no_grad():
        assert torch.allclose(reloaded(ids).logits, model(ids).logits, atol=1e-5)


def test_packing_fills_sequences(make_dataset, tmp_path):
    dataset = make_dataset(size=48)
    packed = train_model(spec=_spec(dataset, tmp_path, "p", packing=True, max_length=64, epochs=1.0),
                         make_callbacks=lambda n: [])
    plain = train_model(spec=_spec(dataset, tmp_path, "q", max_length=64, epochs=1.0), make_callbacks=lambda n: [])
    assert packed.train_examples < plain.train_examples  # several samples per packed row
    assert packed.total_steps < plain.total_steps


def test_fp16_on_cpu_and_qlora_without_gpu_are_refused(make_dataset, tmp_path):
    dataset = make_dataset(size=16)
    with pytest.raises(InvalidInput, match="fp16 needs a CUDA GPU"):
        train_model(spec=_spec(dataset, tmp_path, precision="fp16"), make_callbacks=lambda n: [])
    with pytest.raises(InvalidInput, match="qlora .* needs a CUDA GPU"):
        train_model(spec=_spec(dataset, tmp_path, method="qlora"), make_callbacks=lambda n: [])
