#!/usr/bin/env bash
# Time README command 1 as a new user meets it: a first install into a throw-away copy and virtual environment
# with an empty pip cache (PIP_NO_CACHE_DIR=1, a fresh HOME), then the demo up to the moment the server answers.
#
#   bash bench/bench_install.sh                 # install + demo (port $ARENA_BENCH_PORT, default 8000)
#   bash bench/bench_install.sh --install-only
#
# Prints the figures and the machine's load (a shared machine makes every figure slower; say so with it).
set -uo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
PORT="${ARENA_BENCH_PORT:-8000}"
WORK=$(mktemp -d "${TMPDIR:-/tmp}/arena-bench-install.XXXXXX") || { echo "cannot create a temporary directory" >&2; exit 1; }
demo_pid=""
cleanup() {
  [ -n "$demo_pid" ] && kill -- "-$demo_pid" 2>/dev/null
  rm -rf "$WORK"
}
trap cleanup EXIT
trap "exit 130" INT TERM  # so that EXIT cleans up on Ctrl-C or kill too

# The working tree as it is (tracked and new files, nothing ignored: no .venv, no var/).
mkdir -p "$WORK/arena" "$WORK/home"
(cd "$ROOT" && git ls-files -co --exclude-standard -z | xargs -0 cp --parents -t "$WORK/arena") || exit 1
cd "$WORK/arena" || exit 1
# A new user's environment: no pip cache, no Hugging Face cache, no project variables (the demo uses SQLite).
export HOME="$WORK/home" XDG_CACHE_HOME="$WORK/home/.cache" PIP_NO_CACHE_DIR=1 ARENA_SKIP_CHROMIUM=1
unset ARENA_VENV DATABASE_URL CELERY_BROKER_URL CELERY_RESULT_BACKEND ARENA_STORAGE ARENA_TMP_DIR ARENA_VAR_DIR VIRTUAL_ENV

load() { cut -d' ' -f1-3 /proc/loadavg; }
echo "machine: $(nproc) cores, load average (1/5/15 min) before: $(load)"
start=$(date +%s)
bash scripts/install.sh || { echo "bench: install failed" >&2; exit 1; }
install_s=$(( $(date +%s) - start ))
echo "install: ${install_s} s from an empty pip cache ($(.venv/bin/python --version)); load average now: $(load)"
[ "${1:-}" = "--install-only" ] && exit 0

demo_start=$(date +%s)
ARENA_PORT="$PORT" setsid bash scripts/demo.sh >"$WORK/demo.log" 2>&1 &
demo_pid=$!
tail -f "$WORK/demo.log" --pid "$demo_pid" &
until curl -sf -o /dev/null "http://127.0.0.1:$PORT/accounts/login/"; do
  kill -0 "$demo_pid" 2>/dev/null || { echo "bench: the demo exited before serving (log above)" >&2; exit 1; }
  sleep 1
done
demo_s=$(( $(date +%s) - demo_start ))
sleep 1
echo
echo "demo (migrate + arena_demo + server answering on :$PORT): ${demo_s} s; load average now: $(load)"
echo "README command 1 from an empty pip cache to serving: $(( install_s + demo_s )) s (install ${install_s} s + demo ${demo_s} s)"
