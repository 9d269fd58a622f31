"""What an ingest did to the records: counts per repair rule, per reject rule, ignored fields, the rejects file."""
from __future__ import annotations

import gzip
import json
from collections import Counter
from dataclasses import dataclass, field

from arena.ingest.errors import IngestError
from arena.ingest.formats import Normalised

EXAMPLES = 10


@dataclass
class IngestReport:
    policy: str
    records: int = 0
    samples: int = 0
    repaired: int = 0
    rejected: int = 0
    repairs: Counter = field(default_factory=Counter)
    rejects: Counter = field(default_factory=Counter)
    ignored_fields: Counter = field(default_factory=Counter)
    examples: list[dict] = field(default_factory=list)

    def keep(self, outcome: Normalised) -> None:
        self.samples += 1
        if outcome.repairs:
            self.repaired += 1
            self.repairs.update(outcome.repairs)
        self.ignored_fields.update(outcome.ignored)

    def reject(self, *, location: str, error: IngestError) -> None:
        self.rejected += 1
        self.rejects[error.rule] += 1
        if len(self.examples) < EXAMPLES:
            self.examples.append({"location": location, "rule": error.rule, "problem": error.problem})

    def check(self, *, max_reject_fraction: float) -> None:
        """Refuse the file when nothing, or too much of it, could be kept; the message carries the counts."""
        if self.records == 0:
            raise IngestError("the file holds no records", rule="empty_file")
        fraction = self.rejected / self.records
        if self.samples == 0 or fraction > max_reject_fraction:
            by_rule = ", ".join(f"{rule} {n:,}" for rule, n in self.rejects.most_common())
            first = self.examples[0] if self.examples else None
            example = f"; first: {first['location']}: {first['problem']}" if first else ""
            raise IngestError(
                f"refused: {self.rejected:,} of {self.records:,} records ({fraction:.0%}) could not be read or repaired "
                f"({by_rule}), more than the {max_reject_fraction:.0%} allowed (ARENA_INGEST_MAX_REJECT_FRACTION)"
                f"{example}",
                rule="too_many_rejects",
            )

    def as_dict(self) -> dict:
        return {
            "policy": self.policy,
            "records": self.records,
            "samples": self.samples,
            "repaired": self.repaired,
            "rejected": self.rejected,
            "repairs": dict(self.repairs.most_common()),
            "rejects": dict(self.rejects.most_common()),
            "ignored_fields": dict(self.ignored_fields.most_common()),
            "examples": self.examples,
        }


def _position(location: str) -> dict:
    """``{"line": 12}`` or ``{"record": 3}`` from a location such as "line 12" or "record 3, byte offset 9"."""
    kind, _, rest = location.partition(" ")
    number = rest.split(",", 1)[0]
    return {kind: int(number)} if kind in ("line", "record") and number.isdigit() else {}


class RejectsWriter:
    """Gzipped JSONL, one skipped record per line: where it was, the rule it broke, why, and the record as read."""

    def __init__(self, path: str) -> None:
        self._file = gzip.open(path, "wt", encoding="utf-8")

    def write(self, *, location: str, error: IngestError, record: object) -> None:
        entry = {**_position(location), "location": location, "rule": error.rule, "problem": error.problem, "record": record}
        # ensure_ascii: a lone surrogate in the original record is written as its \ud800 escape, not lost.
        self._file.write(json.dumps(entry, ensure_ascii=True, default=str) + "\n")

    def close(self) -> None:
        self._file.close()
