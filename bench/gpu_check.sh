#!/usr/bin/env bash
# One prepared GPU check of Arena's engines, < 8 minutes on one H100/H200 (see bench/gpu_check.py for what it runs).
#
#   bash bench/gpu_check.sh              # on the GPU machine, from the repository root or anywhere
#   bash bench/gpu_check.sh --cpu-smoke  # check the script on a CPU machine (tiny sizes, results in a temp dir)
#
# Expects a Python 3.12 CUDA image with torch, transformers, accelerate and peft. What is missing (trl, lm-eval,
# datasets, Arena's own pure-Python dependencies) is installed as wheels: from $ARENA_WHEELS (a directory made
# beforehand with `pip download -d wheels --only-binary=:all: --python-version 3.12 trl lm-eval ...`) when the
# machine is offline, else from the package index. Nothing is downloaded besides wheels; models are random-init.
# Results: bench/results/<date>-<gpu>.json (commit it).
set -euo pipefail
cd "$(dirname "$0")/.."
PY="${PYTHON:-python3}"
export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 HF_DATASETS_OFFLINE=1 PYTHONUNBUFFERED=1 TOKENIZERS_PARALLELISM=false

"$PY" - <<'PYEOF'
import sys
import torch, transformers, accelerate, peft  # the image must bring these
print(f"python {sys.version.split()[0]}, torch {torch.__version__} (CUDA {torch.version.cuda}), "
      f"transformers {transformers.__version__}, accelerate {accelerate.__version__}, peft {peft.__version__}")
print("GPU:", torch.cuda.get_device_name() if torch.cuda.is_available() else "none")
PYEOF

# module to import -> wheel to install when the import fails
missing=()
for pair in trl:trl lm_eval:lm-eval datasets:datasets django:django rest_framework:djangorestframework \
            drf_spectacular:drf-spectacular drf_spectacular_sidecar:drf-spectacular-sidecar celery:celery \
            redis:redis dj_database_url:dj-database-url pyarrow:pyarrow pandas:pandas scipy:scipy \
            networkx:networkx zstandard:zstandard datasketch:datasketch django_plotly_dash:django-plotly-dash==2.5.1 \
            dash:dash==4.4.0 dash_cytoscape:dash-cytoscape plotly:plotly whitenoise:whitenoise psutil:psutil \
            gguf:gguf httpx:httpx rich:rich; do
  module="${pair%%:*}"; wheel="${pair#*:}"
  "$PY" -c "import $module" 2>/dev/null || missing+=("$wheel")
done
if ((${#missing[@]})); then
  echo "installing: ${missing[*]}"
  if [[ -n "${ARENA_WHEELS:-}" ]]; then
    "$PY" -m pip install -q --no-index --find-links "$ARENA_WHEELS" "${missing[@]}"
  else
    "$PY" -m pip install -q --prefer-binary "${missing[@]}"
  fi
fi

if [[ "${1:-}" == "--cpu-smoke" ]]; then
  exec "$PY" bench/gpu_check.py --cpu-smoke --out "$(mktemp -d)"
fi
exec timeout 470 "$PY" bench/gpu_check.py "$@"
