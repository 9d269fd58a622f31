"""The web process imports the scorer registry (the API lists every scorer); that must not import torch.

Scorer modules import torch, transformers and the model loaders on first use (``LazyModule`` and
``inference_mode`` in ``scoring/scorers/base.py``; ``arena.model_loading`` imports them inside its functions), so only a worker that runs a model pays for them. Checked in a
fresh interpreter, since this test process has long imported torch through other tests.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
HEAVY = ("torch", "transformers", "sentence_transformers")

PROBE = """
import json, sys
import django
django.setup()
from scoring.scorers.base import scorer_classes
classes = scorer_classes()
listed = [(name, cls.meta.needs_model, cls.unavailable_reason()) for name, cls in classes.items()]
print(json.dumps({"scorers": len(listed), "loaded": [m for m in %r if m in sys.modules]}))
""" % (HEAVY,)


def probe(code: str) -> dict:
    env = dict(os.environ, PYTHONPATH=str(ROOT), DJANGO_SETTINGS_MODULE="arena.settings")
    proc = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])


def test_scorer_registry_loads_no_model_library():
    result = probe(PROBE)
    assert result["scorers"] > 20  # every scorer module was imported ...
    assert result["loaded"] == []  # ... and none of them brought torch, transformers or the model loaders


def test_the_probe_sees_a_model_library_when_one_is_used():
    # the same probe, after a model scorer's module is asked for torch: proves the check above can fail
    code = PROBE.replace("classes = scorer_classes()", "classes = scorer_classes()\nimport scoring.scorers.perplexity as p\np.torch.float32")
    assert "torch" in probe(code)["loaded"]


@pytest.mark.parametrize("module", ["scoring.scorers.perplexity", "scoring.scorers.embedding", "scoring.scorers.fail_rate"])
def test_lazy_names_resolve_to_the_real_ones(module):
    import importlib

    import torch

    from arena.model_loading import loaders, locate

    mod = importlib.import_module(module)
    assert mod.torch.Tensor is torch.Tensor
    for name, home in (("check_model_dir", locate), ("load_causal_lm", loaders), ("load_sentence_embedder", loaders)):
        if hasattr(mod, name):
            assert getattr(mod, name) is getattr(home, name)
