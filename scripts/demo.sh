#!/usr/bin/env bash
# Install everything, build the embedded demo (SQLite, local files, in-process Celery) and serve it.
set -euo pipefail
cd "$(dirname "$0")/.."
ARENA_SKIP_CHROMIUM=1 bash scripts/install.sh  # Chromium is only for the browser tests
export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1
PY="${ARENA_VENV:-.venv}/bin/python"
"$PY" manage.py migrate --noinput
"$PY" manage.py arena_demo
# The sweeper: re-queues work whose heartbeat stopped (a killed server mid-ingest); the demo has no celery beat.
# (The demo runs tasks in the request's own thread: an upload never waits behind scoring. Deployments run one
# worker per queue plus celery beat: README "Operations".)
"$PY" manage.py arena_sweep --every 60 > var/sweeper.log 2>&1 &
SWEEPER=$!
trap 'kill "$SWEEPER" 2>/dev/null' EXIT
PORT="${ARENA_PORT:-8000}"
echo "Serving Arena on http://127.0.0.1:$PORT (log in as demo / demo-password)"
"$PY" manage.py runserver "127.0.0.1:$PORT" --noreload
