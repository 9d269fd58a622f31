"""Answer extraction and comparison of the user ``generation`` kind (its lm-eval ``process_results``)."""
from __future__ import annotations

import re

_NUMBER = r"-?\d[\d,]*(?:\.\d+)?|-?\.\d+"
_ANSWER_IS = re.compile(r"answer\s*(?:is|:)\s*:?\s*\$?\s*(" + _NUMBER + r")", re.IGNORECASE)
_BOXED = re.compile(r"\\boxed\{\s*(" + _NUMBER + r")\s*\}")
_ANY_NUMBER = re.compile(_NUMBER)


def _to_float(text: str) -> float | None:
    try:
        return float(text.replace(",", ""))
    except ValueError:
        return None


def to_number(answer) -> float | None:
    """A reference answer as a number (int, float or numeric string), else None."""
    if isinstance(answer, bool):
        return None
    if isinstance(answer, (int, float)):
        return float(answer)
    return _to_float(str(answer).strip())


def extract_number(text: str) -> float | None:
    """The final numeric answer in ``text``: after 'answer is'/'answer:' or in \\boxed{}, else the last number."""
    for pattern in (_ANSWER_IS, _BOXED):
        matches = pattern.findall(text)
        if matches:
            return _to_float(matches[-1])
    numbers = _ANY_NUMBER.findall(text)
    return _to_float(numbers[-1]) if numbers else None


def numeric_match(prediction: str, answer) -> bool:
    expected = to_number(answer)
    if expected is None:
        raise ValueError(f"the reference answer {answer!r} is not a number")
    got = extract_number(prediction)
    return got is not None and abs(got - float(expected)) <= 1e-6 * max(1.0, abs(float(expected)))


def normalize_text(text: str) -> str:
    return " ".join(str(text).strip().lower().split()).rstrip(".").strip()


def exact_match(prediction: str, answer) -> bool:
    return normalize_text(prediction) == normalize_text(answer)
