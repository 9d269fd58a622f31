#!/usr/bin/env bash
# Install everything, build the embedded demo (SQLite, local files, in-process Celery) and serve it.
set -euo pipefail
cd "$(dirname "$0")/.."
ARENA_SKIP_CHROMIUM=1 bash scripts/install.sh  # Chromium is only for the browser tests
export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1
.venv/bin/python manage.py migrate --noinput
.venv/bin/python manage.py arena_demo
# The sweeper: re-queues work whose heartbeat stopped (a killed server mid-ingest); the demo has no celery beat.
# (The demo runs tasks in the request's own thread: an upload never waits behind scoring. Deployments run one
# worker per queue plus celery beat: README "Operations".)
.venv/bin/python manage.py arena_sweep --every 60 > var/sweeper.log 2>&1 &
SWEEPER=$!
trap 'kill "$SWEEPER" 2>/dev/null' EXIT
echo "Serving Arena on http://127.0.0.1:8000 (log in as demo / demo-password)"
.venv/bin/python manage.py runserver 127.0.0.1:8000 --noreload
