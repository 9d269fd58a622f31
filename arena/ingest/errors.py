"""The one error type ingest raises: it always says where and what."""
from __future__ import annotations


class IngestError(Exception):
    """A problem with the uploaded data, phrased for the person who uploaded it.

    ``location`` names the line (JSONL, CSV), record (JSON array, Parquet) or
    byte offset, so the message can be acted on without opening the file.
    """

    def __init__(self, problem: str, *, location: str | None = None) -> None:
        self.problem = problem
        self.location = location
        super().__init__(f"{location}: {problem}" if location else problem)
