"""The one error type ingest raises: it always says where and what, and which rule the record broke."""
from __future__ import annotations


class IngestError(Exception):
    """A problem with the uploaded data, phrased for the person who uploaded it.

    ``location`` names the line (JSONL, CSV), record (JSON array, Parquet) or
    byte offset, so the message can be acted on without opening the file.
    ``rule`` names the broken rule in one word (``unknown_role``, ``invalid_json``...): the repair
    policy counts rejected records by it and writes it to the rejects file.
    """

    def __init__(self, problem: str, *, location: str | None = None, rule: str = "invalid_file") -> None:
        # A message quoting the upload may quote a lone surrogate; escape it so the message can be stored and sent.
        problem = problem.encode("utf-8", errors="backslashreplace").decode("utf-8")
        self.problem = problem
        self.location = location
        self.rule = rule
        super().__init__(f"{location}: {problem}" if location else problem)
