"""The normalised sample schema, shared by ingest, scoring, lineage and training.

A message is ``{"role", "content"}`` plus, when the source carries them, ``tool_calls`` (the assistant's
function calls, canonical JSON text of the OpenAI list), ``tool_call_id`` and ``name`` (a tool result) and the
per-turn training metadata ``weight`` (a number) and ``loss`` (true/false). A sample also keeps its ``tools``
(the function definitions offered, canonical JSON text, "" when none).

``sample_hash`` hashes one sample's content (system, tools, messages: never its id or position);
``MultisetHash`` combines sample hashes into an order-free content hash of a dataset: the sum of the
sample hashes modulo 2**256, so the same samples in any order give the same hash, and a repeated sample
counts as often as it occurs.
"""
from __future__ import annotations

import hashlib
import json
import re

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

OPTIONAL_MESSAGE_FIELDS = ("tool_calls", "tool_call_id", "name", "weight", "loss")

MESSAGE_TYPE = pa.struct(
    [
        ("role", pa.string()),
        ("content", pa.string()),
        ("tool_calls", pa.string()),  # canonical JSON of the assistant's tool calls, null when none
        ("tool_call_id", pa.string()),  # a tool result: the call it answers
        ("name", pa.string()),  # a tool result: the function's name
        ("weight", pa.float64()),  # per-turn training weight (axolotl / LLaMA-Factory style), null when unset
        ("loss", pa.bool_()),  # per-turn loss mask, null when unset
    ]
)

SAMPLE_SCHEMA = pa.schema(
    [
        ("idx", pa.int64()),  # 0-based position in the dataset; the key scores refer to
        ("id", pa.string()),  # the record's own id, or its position when it had none
        ("system", pa.string()),
        ("messages", pa.list_(MESSAGE_TYPE)),
        # the instruction (Q) and response (A) texts are not stored a second time: they are views of
        # ``messages`` (see ``qa_views``); files written before kept them as columns of those names
        ("n_turns", pa.int32()),
        ("instruction_tokens", pa.int32()),
        ("response_tokens", pa.int32()),
        ("source", pa.string()),  # where in the upload the sample came from, e.g. "line 12"
        ("tools", pa.string()),  # canonical JSON of the tool definitions offered, "" or null when none
    ]
)

QA_COLUMNS = ("instruction", "response")


def qa_views(messages: pa.Array | pa.ChunkedArray) -> tuple[pa.Array, pa.Array]:
    """The instruction (Q) and response (A) text of every sample, derived column-wise from ``messages``.

    Same texts as ``Sample.instruction``/``Sample.response``: the response is the final message; the
    instruction is the only earlier message's content, or every earlier message as "role: content"
    joined by blank lines.
    """
    if isinstance(messages, pa.ChunkedArray):
        messages = messages.combine_chunks() if messages.num_chunks else pa.array([], messages.type)
    n = len(messages)
    lengths = pc.fill_null(pc.list_value_length(messages), 0).to_numpy(zero_copy_only=False).astype(np.int64)
    turns = messages.flatten()
    roles, contents = pc.fill_null(turns.field("role"), ""), pc.fill_null(turns.field("content"), "")
    ends = np.cumsum(lengths)
    starts = ends - lengths
    empty = pa.array([""] * n, pa.string())
    has = lengths > 0
    last = np.where(has, ends - 1, 0)
    response = pc.if_else(pa.array(has), pc.take(contents, pa.array(last)), empty) if len(contents) else empty
    labelled = pc.binary_join_element_wise(roles, contents, ": ")
    single = lengths == 2
    position = np.arange(len(contents)) - np.repeat(starts, lengths)
    before_last = position < np.repeat(lengths - 1, lengths)
    flat = pc.if_else(pa.array(np.repeat(single, lengths)), contents, labelled) if len(contents) else contents
    kept = pc.filter(flat, pa.array(before_last)) if len(contents) else flat
    counts = np.maximum(lengths - 1, 0)
    offsets = pa.array(np.concatenate([[0], np.cumsum(counts)]).astype(np.int32))
    instruction = pc.binary_join(pa.ListArray.from_arrays(offsets, kept.cast(pa.string())), "\n\n")
    return instruction, response


def with_qa_views(batch: pa.RecordBatch, *, columns: list[str]) -> pa.RecordBatch:
    """``batch`` (which holds ``messages``) as ``columns``, deriving instruction/response where absent."""
    derived = dict(zip(QA_COLUMNS, qa_views(batch.column("messages"))))
    arrays = [batch.column(c) if c in batch.schema.names else derived[c] for c in columns]
    return pa.RecordBatch.from_arrays(arrays, names=columns)


_TOKEN_RE = re.compile(r"\w+|[^\w\s]", re.UNICODE)
_MOD = 2**256


_ASCII_WORD = bytes(c for c in range(128) if chr(c).isalnum() or c == 0x5F)  # ``\w`` among ASCII bytes
_ASCII_SPACE = bytes(c for c in range(128) if chr(c).isspace())  # ``\s`` among ASCII bytes
_ASCII_NON_WORD_TO_SPACE = bytes(c if c in _ASCII_WORD else 0x20 for c in range(256))


def count_tokens(text: str) -> int:
    """Word-level token count (words and punctuation marks): ``len(_TOKEN_RE.findall(text))``; model-free and fast.

    An ASCII text is counted in C without building its tokens: ``\w+`` runs by splitting the bytes with every
    non-word byte made a space, marks by deleting word and space bytes. Model-specific token counts come from
    the scoring engine's tokenizer-based scorers; registry statistics use this tokenizer so they need no model.
    """
    if text.isascii():
        data = text.encode("ascii")
        runs = len(data.translate(_ASCII_NON_WORD_TO_SPACE).split())
        return runs + len(data.translate(None, _ASCII_WORD + _ASCII_SPACE))
    return len(_TOKEN_RE.findall(text))


def canonical_json(value: object) -> str:
    """One spelling for one JSON value: sorted keys, no spaces, non-ASCII kept."""
    return json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def canonical_message(message: dict) -> dict:
    """A message without its unset optional fields (as read back from Parquet, every field is present)."""
    out = {"role": message["role"], "content": message.get("content") or ""}
    for key in OPTIONAL_MESSAGE_FIELDS:
        if message.get(key) is not None:
            out[key] = message[key]
    return out


def canonical_sample(*, system: str | None, tools: str | None, messages: list[dict]) -> dict:
    return {"system": system or "", "tools": tools or "", "messages": [canonical_message(m) for m in messages]}


def sample_hash(*, system: str | None, tools: str | None, messages: list[dict]) -> bytes:
    """32 bytes identifying a sample's content, whatever format or file it came from."""
    body = canonical_sample(system=system, tools=tools, messages=messages)
    if not body["tools"]:
        del body["tools"]  # plain chat samples hash as [system, messages] did before tools were kept
    return hashlib.sha256(canonical_json(body).encode("utf-8", errors="surrogatepass")).digest()


class MultisetHash:
    """An order-free hash of a multiset of samples (sum of sample hashes mod 2**256), plus a small sketch.

    The sketch keeps the ``sketch_size`` smallest distinct sample hashes (a bottom-k sketch): two datasets'
    sketches estimate how much of their samples they share, which is what "near-identical" means.
    """

    def __init__(self, *, sketch_size: int = 256) -> None:
        self.total = 0
        self.count = 0
        self.sketch_size = sketch_size
        self._smallest: set[int] = set()
        self._ceiling: int | None = None

    def add(self, digest: bytes) -> None:
        value = int.from_bytes(digest, "big")
        self.total = (self.total + value) % _MOD
        self.count += 1
        self.add_value_to_sketch(value)

    def add_many(self, digests: list[bytes]) -> None:
        """``add`` for many digests; the same result, with one big-integer sum per call."""
        values = [int.from_bytes(d, "big") for d in digests]
        self.total = (self.total + sum(values)) % _MOD
        self.count += len(values)
        ceiling = self._ceiling
        for value in values if ceiling is None else [v for v in values if v < ceiling]:
            self.add_value_to_sketch(value)

    def add_value_to_sketch(self, value: int) -> None:
        if self._ceiling is not None and value >= self._ceiling:
            return
        self._smallest.add(value)
        if len(self._smallest) > self.sketch_size:
            self._smallest.discard(max(self._smallest))
        if len(self._smallest) == self.sketch_size:
            self._ceiling = max(self._smallest)

    def hexdigest(self) -> str:
        return f"{self.total:064x}"

    def sketch(self) -> list[str]:
        """The smallest distinct sample hashes, as 16-hex-digit prefixes (enough to tell samples apart)."""
        return [f"{value:064x}"[:16] for value in sorted(self._smallest)]


def sketch_similarity(a: list[str], b: list[str], *, sketch_size: int = 256) -> float:
    """Estimated Jaccard similarity of two datasets' distinct samples from their bottom-k sketches."""
    if not a or not b:
        return 0.0
    union = sorted(set(a) | set(b))[:sketch_size]
    shared = set(a) & set(b)
    return sum(1 for value in union if value in shared) / len(union)
