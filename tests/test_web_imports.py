"""The web process imports no model code: loading every URL route (what gunicorn's start-up and the first request
do) must not import torch or transformers, which cost seconds and hundreds of MB per worker. Model code is imported
inside the functions that run models (scorers, training, model loading)."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

CODE = """
import json, sys
import django
django.setup()
from arena.warmup import warm_up
warm_up()  # the root URLconf, every route's view and Dash app
print(json.dumps({m: m in sys.modules for m in ("torch", "transformers", "peft", "trl", "accelerate")}))
"""


def test_loading_the_url_routes_imports_no_model_code():
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "arena.settings"}
    out = subprocess.run([sys.executable, "-c", CODE], cwd=ROOT, env=env, capture_output=True, text=True,
                         timeout=300)
    assert out.returncode == 0, out.stderr[-3000:]
    loaded = json.loads(out.stdout.strip().splitlines()[-1])
    assert not any(loaded.values()), f"imported by the web process at start-up: {loaded}"
