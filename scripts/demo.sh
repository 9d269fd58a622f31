#!/usr/bin/env bash
# Install everything, build the embedded demo (SQLite, local files, in-process Celery) and serve it.
set -euo pipefail
cd "$(dirname "$0")/.."
ARENA_SKIP_CHROMIUM=1 bash scripts/install.sh  # Chromium is only for the browser tests
export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1
.venv/bin/python manage.py migrate --noinput
.venv/bin/python manage.py arena_demo
echo "Serving Arena on http://127.0.0.1:8000 (log in as demo / demo-password)"
exec .venv/bin/python manage.py runserver 127.0.0.1:8000 --noreload
