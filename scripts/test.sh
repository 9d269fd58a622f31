#!/usr/bin/env bash
# Run the whole test suite against real PostgreSQL and Redis (installs what is missing first).
# A good neighbour on a shared server: its own database (test_arena_suite, dropped at the end) and its own
# Redis database number (ARENA_TEST_REDIS_DB, default 13; the tests flush only that one).
#   bash scripts/test.sh                      # everything
#   bash scripts/test.sh -m pure              # tests that need no database (no PostgreSQL needed)
#   bash scripts/test.sh tests/scoring -x     # any pytest arguments
set -uo pipefail
cd "$(dirname "$0")/.."
VENV="${ARENA_VENV:-.venv}"
bash scripts/services.sh || exit 1
bash scripts/install.sh || exit 1
# pytest-django creates (and drops) test_<name>: the database named here is never touched itself.
export DATABASE_URL="${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/arena_suite}"
export ARENA_TEST_REDIS_DB="${ARENA_TEST_REDIS_DB:-13}"
export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 HF_DATASETS_OFFLINE=1
"$VENV/bin/python" -m pytest --durations=25 "$@"
rc=$?
if [ "$rc" -eq 5 ]; then
  echo "pytest collected no tests: that is a failure, not a pass" >&2
  exit 1
fi
exit "$rc"
