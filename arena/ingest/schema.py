"""The normalised sample schema, shared by ingest, scoring, lineage and training."""
from __future__ import annotations

import re

import pyarrow as pa

MESSAGE_TYPE = pa.struct([("role", pa.string()), ("content", pa.string())])

SAMPLE_SCHEMA = pa.schema(
    [
        ("idx", pa.int64()),  # 0-based position in the dataset; the key scores refer to
        ("id", pa.string()),  # the record's own id, or its position when it had none
        ("system", pa.string()),
        ("messages", pa.list_(MESSAGE_TYPE)),
        ("instruction", pa.string()),  # Q: everything before the final assistant reply
        ("response", pa.string()),  # A: the final assistant reply
        ("n_turns", pa.int32()),
        ("instruction_tokens", pa.int32()),
        ("response_tokens", pa.int32()),
        ("source", pa.string()),  # where in the upload the sample came from, e.g. "line 12"
    ]
)

_TOKEN_RE = re.compile(r"\w+|[^\w\s]", re.UNICODE)


def count_tokens(text: str) -> int:
    """Word-level token count (words and punctuation marks); model-free and fast.

    Model-specific token counts come from the scoring engine's tokenizer-based
    scorers; registry statistics use this tokenizer so they need no model.
    """
    return len(_TOKEN_RE.findall(text))
