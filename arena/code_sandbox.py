"""Running model-written Python (code benchmarks, the fail-rate scorer): an explicit opt-in and a limited subprocess.

Model-written code is untrusted. Arena runs it only where ``ARENA_ALLOW_CODE_EXECUTION=true`` was set on purpose,
each program in its own ``python -I`` process: a fresh empty
temp directory as cwd, a scrubbed environment, CPU-time, address-space, file-size, core and process-count limits, and
its whole session killed on timeout. This guards against accidents, not against an attacker: enable it only on
workers inside a sandboxed container with no network.
"""
from __future__ import annotations

import os
import resource
import signal
import subprocess
import sys
import tempfile
from dataclasses import dataclass

from django.conf import settings

from arena.errors import InvalidInput

MEMORY_LIMIT_BYTES = 1024 * 1024 * 1024
FILE_LIMIT_BYTES = 10 * 1024 * 1024
PROCESS_LIMIT = 64


def code_execution_allowed() -> bool:
    return bool(getattr(settings, "ARENA_ALLOW_CODE_EXECUTION", False))


def require_code_execution(*, what: str) -> None:
    if not code_execution_allowed():
        raise InvalidInput(
            f"{what} executes model-generated code; this deployment has not enabled it (set "
            "ARENA_ALLOW_CODE_EXECUTION=true on the web and worker processes, preferably inside a sandboxed container)"
        )


@dataclass(frozen=True)
class ProgramResult:
    passed: bool
    detail: str  # passed | failed: <last stderr line> | timed out


def _limits(timeout_s: float):
    def apply() -> None:
        cpu = int(timeout_s) + 1
        resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu))
        resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT_BYTES, MEMORY_LIMIT_BYTES))
        resource.setrlimit(resource.RLIMIT_FSIZE, (FILE_LIMIT_BYTES, FILE_LIMIT_BYTES))
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
        resource.setrlimit(resource.RLIMIT_NPROC, (PROCESS_LIMIT, PROCESS_LIMIT))

    return apply


def run_python(*, program: str, timeout_s: float) -> ProgramResult:
    """Run ``program``; passed = exit status 0 within ``timeout_s`` seconds of wall time."""
    require_code_execution(what="running code")
    with tempfile.TemporaryDirectory(prefix="arena-exec-") as workdir:
        path = os.path.join(workdir, "program.py")
        with open(path, "w", encoding="utf-8") as handle:
            handle.write(program)
        process = subprocess.Popen(
            [sys.executable, "-I", path],
            cwd=workdir,
            env={"PATH": "/usr/bin:/bin", "PYTHONHASHSEED": "0", "HOME": workdir},
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            start_new_session=True,
            preexec_fn=_limits(timeout_s),
        )
        try:
            _, stderr = process.communicate(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.communicate()
            return ProgramResult(passed=False, detail="timed out")
        finally:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
    if process.returncode == 0:
        return ProgramResult(passed=True, detail="passed")
    last = stderr.decode(errors="replace").strip().splitlines()[-1:] or [f"exit status {process.returncode}"]
    if process.returncode < 0:
        last = [f"killed by signal {-process.returncode} ({last[0]})"]
    return ProgramResult(passed=False, detail=f"failed: {last[0][:300]}")
