#!/usr/bin/env bash
# Run the whole test suite against real PostgreSQL and Redis (installs what is missing first).
set -uo pipefail
cd "$(dirname "$0")/.."
bash scripts/services.sh || exit 1
bash scripts/install.sh || exit 1
export DATABASE_URL="${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/arena}"
export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1
.venv/bin/python -m pytest "$@"
rc=$?
if [ "$rc" -eq 5 ]; then
  echo "pytest collected no tests: that is a failure, not a pass" >&2
  exit 1
fi
exit "$rc"
