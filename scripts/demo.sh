#!/usr/bin/env bash
# Install everything, build the embedded demo (SQLite, local files, in-process Celery) and serve it.
set -euo pipefail
cd "$(dirname "$0")/.."
ARENA_SKIP_CHROMIUM=1 bash scripts/install.sh  # Chromium is only for the browser tests
export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1
"${ARENA_VENV:-.venv}/bin/python" manage.py migrate --noinput
"${ARENA_VENV:-.venv}/bin/python" manage.py arena_demo
PORT="${ARENA_PORT:-8000}"
echo "Serving Arena on http://127.0.0.1:$PORT (log in as demo / demo-password)"
exec "${ARENA_VENV:-.venv}/bin/python" manage.py runserver "127.0.0.1:$PORT" --noreload
