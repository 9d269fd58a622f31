#!/usr/bin/env bash
# Run the whole test suite against real PostgreSQL and Redis (installs what is missing first).
# A good neighbour on a shared server: its own database (test_arena_suite, dropped at the end) and its own
# Redis database number (ARENA_TEST_REDIS_DB, default 13; the tests flush only that one).
#   bash scripts/test.sh                      # everything
#   bash scripts/test.sh -m pure              # tests that need no database (no PostgreSQL needed)
#   bash scripts/test.sh tests/scoring -x     # any pytest arguments
#   ARENA_TEST_WORKERS=auto bash scripts/test.sh  # pytest-xdist, one worker per core (default 0: one process;
#                                             # on 2 cores, 2 workers measured slower: each migrates its own database)
# Under xdist, worker gwK uses the database test_<name>_gwK and Redis database ARENA_TEST_REDIS_DB + K.
set -uo pipefail
cd "$(dirname "$0")/.."
VENV="${ARENA_VENV:-.venv}"
bash scripts/services.sh || exit 1
bash scripts/install.sh || exit 1
# pytest-django creates (and drops) test_<name>: the database named here is never touched itself.
export DATABASE_URL="${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/arena_suite}"
export ARENA_TEST_REDIS_DB="${ARENA_TEST_REDIS_DB:-13}"
export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 HF_DATASETS_OFFLINE=1
WORKERS="${ARENA_TEST_WORKERS:-0}"
if [ "$WORKERS" = "auto" ]; then
  WORKERS=$(nproc)
  SPARE=$((16 - ARENA_TEST_REDIS_DB))  # Redis has databases 0-15; each worker needs its own
  if [ "$WORKERS" -gt "$SPARE" ]; then WORKERS=$SPARE; fi
  if [ "$WORKERS" -lt 2 ]; then WORKERS=0; fi
fi
PARALLEL=()
if [ "$WORKERS" != "0" ]; then
  PARALLEL=(-n "$WORKERS" --dist loadgroup)
fi
"$VENV/bin/python" -m pytest "${PARALLEL[@]}" --durations=25 "$@"
rc=$?
if [ "$rc" -eq 5 ]; then
  echo "pytest collected no tests: that is a failure, not a pass" >&2
  exit 1
fi
exit "$rc"
