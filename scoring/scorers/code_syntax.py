"""Python code validity: the share of the response's Python code blocks that parse with ``ast``."""

from __future__ import annotations

import ast
import re
import warnings
from collections.abc import Sequence

from scoring.scorers.base import SampleText, Scorer, ScorerMeta, register

_FENCE_RE = re.compile(r"^[ \t]*(```|~~~)[ \t]*([\w+#.-]*)[^\n]*\n(.*?)^[ \t]*\1[ \t]*$", re.DOTALL | re.MULTILINE)
PYTHON_TAGS = {"python", "py", "python3", "py3"}
#: an untagged block counts as Python only when a line starts like Python code
_PYTHONISH_RE = re.compile(r"^\s*(def |class |import |from \S+ import |print\(|return |if __name__)", re.MULTILINE)


def python_blocks(text: str) -> list[str]:
    """Fenced code blocks tagged python/py, plus untagged blocks with a Python-looking line."""
    blocks: list[str] = []
    if "```" not in text and "~~~" not in text:  # no fence, no block: skip the multi-line expression
        return blocks
    for match in _FENCE_RE.finditer(text):
        tag, body = match.group(2).lower(), match.group(3)
        if tag in PYTHON_TAGS or (not tag and _PYTHONISH_RE.search(body)):
            blocks.append(body)
    return blocks


def parses(code: str) -> bool:
    """True when ``ast.parse`` accepts the code. Code too deeply nested for the parser counts as invalid."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", SyntaxWarning)
            ast.parse(code)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return False
    return True


@register
class PythonSyntax(Scorer):
    meta = ScorerMeta(
        name="python_syntax",
        axis="structure",
        reads="A",
        raw_range=(0, 1),
        higher_is_better=True,
        needs_model=False,
        version="1",
        description="Share of the response's Python code blocks (``` fences tagged python/py, or untagged with a "
        "def/class/import/print line) that parse with Python's ast. None when the response has no Python code.",
    )

    def score_batch(self, samples: Sequence[SampleText]) -> list[float | None]:
        out: list[float | None] = []
        for sample in samples:
            blocks = python_blocks(sample.response)
            out.append(sum(parses(b) for b in blocks) / len(blocks) if blocks else None)
        return out
