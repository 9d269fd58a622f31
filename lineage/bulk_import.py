"""Parse and validate a JSONL file of declared lineage edges, one ``{target, source, relationship,
confidence, evidence}`` object per line. Every line is checked; errors name their line number."""
from __future__ import annotations

import io
import json
from dataclasses import dataclass
from typing import IO

from lineage.models import LineageEdge

MAX_LINES = 100_000
MAX_REPORTED_ERRORS = 50
FIELDS = {"target", "source", "relationship", "confidence", "evidence"}
REQUIRED = ("target", "source", "relationship")
# The relation names, mapped explicitly onto the stored values.
RELATION_ALIASES = {
    "filtered": "subset",
    "composition": "mixture",
    "synthetic generation": "synthetic",
    "synthetic_generation": "synthetic",
    "semantic evolution": "evolution",
    "semantic_evolution": "evolution",
}


@dataclass(frozen=True)
class EdgeLine:
    line: int
    target: str
    source: str
    relation: str
    confidence: float
    evidence: str


def relation_from_name(name: str) -> str | None:
    key = name.strip().lower()
    key = RELATION_ALIASES.get(key, key)
    return key if key in LineageEdge.Relation.values else None


def _parse_line(line_no: int, raw: str) -> tuple[EdgeLine | None, list[str]]:
    try:
        obj = json.loads(raw)
    except json.JSONDecodeError as exc:
        return None, [f"line {line_no}: not valid JSON ({exc.msg} at column {exc.colno})"]
    if not isinstance(obj, dict):
        return None, [f"line {line_no}: expected a JSON object, got {type(obj).__name__}"]
    errors = []
    unknown = sorted(set(obj) - FIELDS)
    if unknown:
        errors.append(f"line {line_no}: unknown field(s) {', '.join(unknown)}; allowed: {', '.join(sorted(FIELDS))}")
    for key in REQUIRED:
        if not isinstance(obj.get(key), str) or not obj[key].strip():
            errors.append(f"line {line_no}: {key!r} is required and must be a non-empty string")
    relation = None
    if isinstance(obj.get("relationship"), str) and obj["relationship"].strip():
        relation = relation_from_name(obj["relationship"])
        if relation is None:
            allowed = ", ".join(sorted(set(LineageEdge.Relation.values) | set(RELATION_ALIASES)))
            errors.append(f"line {line_no}: unknown relationship {obj['relationship']!r}; expected one of {allowed}")
    confidence = obj.get("confidence", 1.0)
    if isinstance(confidence, bool) or not isinstance(confidence, (int, float)) or not 0.0 <= confidence <= 1.0:
        errors.append(f"line {line_no}: confidence must be a number between 0 and 1, got {confidence!r}")
    evidence = obj.get("evidence", "")
    if not isinstance(evidence, str):
        errors.append(f"line {line_no}: evidence must be a string")
    if errors:
        return None, errors
    if obj["target"].strip() == obj["source"].strip():
        return None, [f"line {line_no}: target and source are the same dataset {obj['target']!r}"]
    return EdgeLine(line_no, obj["target"].strip(), obj["source"].strip(), relation, float(confidence), evidence), []


def parse_edge_lines(upload: IO[bytes]) -> tuple[list[EdgeLine], list[str]]:
    """All well-formed lines and all errors (line-numbered). Blank lines are skipped."""
    lines: list[EdgeLine] = []
    errors: list[str] = []
    text = io.TextIOWrapper(upload, encoding="utf-8", newline=None) if not isinstance(upload, io.TextIOBase) else upload
    try:
        for line_no, raw in enumerate(text, start=1):
            if line_no > MAX_LINES:
                errors.append(f"line {line_no}: more than {MAX_LINES:,} lines; split the file")
                break
            if not raw.strip():
                continue
            parsed, line_errors = _parse_line(line_no, raw)
            errors.extend(line_errors)
            if parsed is not None:
                lines.append(parsed)
    except UnicodeDecodeError as exc:
        errors.append(f"the file is not UTF-8 text ({exc.reason} at byte {exc.start})")
    finally:
        if isinstance(text, io.TextIOWrapper) and text is not upload:
            text.detach()
    return lines, errors
