"""One GGUF -> Hugging Face conversion for every consumer, written once into the model cache.

Loading a GGUF with transformers de-quantises it (~30 s on a small CPU). The first load converts it to a plain
float32 Hugging Face directory named by ``arena.storage.converted_model_dir`` (keyed by the GGUF's sha256, so a
scorer and a training job share one copy); later loads read that directory. The directory appears by an atomic
rename, so concurrent workers never see a half-written one.
"""
from __future__ import annotations

import json
from pathlib import Path

from arena.model_loading.locate import file_sha256
from arena.storage import converted_model_dir, model_cache_publish, model_cache_staging


def convert_gguf_once(*, gguf: Path) -> tuple[Path, str]:
    """The converted directory of ``gguf`` (converting it the first time) and the GGUF's sha256."""
    sha256 = file_sha256(path=gguf)
    target = converted_model_dir(source_stem=gguf.stem, digest=sha256)
    if (target / "config.json").is_file():
        return target, sha256
    with model_cache_staging(target=target) as staging:
        _convert(gguf=gguf, into=staging, sha256=sha256)
        model_cache_publish(staging=staging, target=target)
    return target, sha256


def _convert(*, gguf: Path, into: Path, sha256: str) -> None:
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(str(gguf.parent), gguf_file=gguf.name)
    model = AutoModelForCausalLM.from_pretrained(str(gguf.parent), gguf_file=gguf.name, dtype=torch.float32)
    model.hf_quantizer = None  # the weights are de-quantised now: save them as a plain float32 model
    if hasattr(model.config, "quantization_config"):
        del model.config.quantization_config
    model.save_pretrained(str(into))
    tokenizer.save_pretrained(str(into))
    (into / "arena_source.json").write_text(json.dumps({"gguf_file": gguf.name, "gguf_sha256": sha256}))
