"""Vectorised normalisation of a clean block of JSONL lines (Arrow parses, polars counts and escapes).

The record-by-record normaliser (:mod:`arena.ingest.formats`) spends its time in Python per field; most
uploads are clean alpaca or sharegpt files where every record takes the same path. ``normalise_block``
handles such a block of complete lines in a few columnar passes and returns ``None`` the moment anything
is not plainly clean (a field it does not know, a wrong type, a null, a role outside the table, a system
turn after the first, a conversation the rules refuse, an empty reply, invalid UTF-8, a lone surrogate,
a blank line, an over-long line...). The caller then feeds that block to the record-by-record path,
which applies the policy (strict error or repair/reject) with its usual messages and locations, so the
fast path changes speed, never outcomes: same rows, same token counts, same content hash.

Token counts use polars' regex engine with Python's own ``\\w``/``\\s`` classes spelled out code point by code point
(checked on every code point by the tests), summed per message without building token lists; the
sample hash is SHA-256 of the same canonical JSON as :func:`arena.ingest.schema.sample_hash`, written by
polars' JSON encoder (same escapes as ``json.dumps(ensure_ascii=False)``, also checked on every code
point) and hashed on those bytes.
"""
from __future__ import annotations

import functools
import hashlib
import io
import re
from dataclasses import dataclass

import numpy as np
import polars as pl
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.json as pj

from arena.ingest.formats import MESSAGE_ROLES, SHAREGPT_ROLES
from arena.ingest.sample_formats._fields import FUNCTION_CALL_TAG
from arena.ingest.schema import MESSAGE_TYPE, SAMPLE_SCHEMA
from arena.ingest.unicode_classes import classes

# role tags the record path handles itself (a LLaMA-Factory ``function_call`` turn carries tool calls)
RECORD_PATH_TAGS = frozenset({FUNCTION_CALL_TAG})



@functools.cache
def token_pattern() -> str:
    """``count_tokens``' regex (``\\w+|[^\\w\\s]``) with Python's classes spelled out for polars' engine."""
    word, space = classes()
    return f"[{word}]+|[^{word}{space}]"


@functools.cache
def _blank_pattern() -> str:
    return f"^[{classes()[1]}]*$"


# pyarrow.compute imports its pandas shim on the first call that converts a Python scalar: pay that once, at import
pc.equal(pa.array([0]), 0)

_INNER_BLANK_LINE = re.compile(rb"\n[ \t\r]*\n")
_ID_TYPES = (pa.string(), pa.large_string(), pa.int64())
_ROLE_TOKENS = 2  # "user: ", "assistant: ", "tool: " -> a word and a colon (multi-turn instruction text)


@dataclass
class Block:
    """A normalised block: the sample rows plus what the totals need."""

    table: pa.Table
    instruction_tokens: np.ndarray
    response_tokens: np.ndarray
    n_turns: np.ndarray
    digests: list[bytes]


def count_tokens_array(texts: pa.Array) -> np.ndarray:
    """``count_tokens`` of every string (0 for null), without building any token."""
    counts = pl.Series(values=texts).str.count_matches(token_pattern()).fill_null(0)
    return counts.to_numpy().astype(np.int64, copy=False)


def json_literals(texts: pa.Array) -> pl.Series:
    """Each string as a JSON string literal, escaped exactly as ``json.dumps(s, ensure_ascii=False)``."""
    frame = pl.DataFrame({"s": pl.Series(values=texts)})
    return frame.select(pl.struct("s").struct.json_encode().str.slice(5).str.head(-1)).to_series()


def _blank(texts: pa.Array) -> bool:
    """Whether any string is empty after Python's ``str.strip()``."""
    return bool(pc.any(pc.match_substring_regex(texts, _blank_pattern())).as_py())


def _parse(data: bytes) -> pa.Table | None:
    try:
        table = pj.read_json(io.BytesIO(data), read_options=pj.ReadOptions(block_size=len(data) + 1))
        table.validate(full=True)  # the JSON reader does not check UTF-8; a full validation does
        return table
    except (pa.ArrowInvalid, UnicodeDecodeError, ValueError):
        return None


def _string(column: pa.ChunkedArray | None, n: int) -> pa.Array | None:
    """A string column as one array with nulls as "" (None when absent or not a string column)."""
    if column is None:
        return pa.array([""] * n, pa.string())
    if column.type == pa.null():
        return pa.array([""] * n, pa.string())
    if column.type not in (pa.string(), pa.large_string()):
        return None
    return pc.fill_null(column.combine_chunks().cast(pa.string()), "")


def _ids(column: pa.ChunkedArray | None, *, first_idx: int, n: int) -> pa.Array | None:
    """``_record_id`` per row: the record's own id, or its position when it has none (null or "")."""
    fallback = pa.array([str(first_idx + i) for i in range(n)], pa.string())
    if column is None or column.type == pa.null():
        return fallback
    if column.type not in _ID_TYPES:
        return None
    ids = column.combine_chunks().cast(pa.string())
    missing = pc.or_kleene(pc.is_null(ids), pc.equal(ids, ""))
    return pc.if_else(missing, fallback, ids)


def _messages(*, offsets: np.ndarray, roles: pa.Array, contents: pa.Array) -> pa.ListArray:
    n = len(roles)
    nulls_str = pa.nulls(n, pa.string())
    struct = pa.StructArray.from_arrays(
        [roles, contents, nulls_str, nulls_str, nulls_str, pa.nulls(n, pa.float64()), pa.nulls(n, pa.bool_())],
        fields=list(MESSAGE_TYPE),
    )
    return pa.ListArray.from_arrays(pa.array(offsets, pa.int32()), struct, type=pa.list_(MESSAGE_TYPE))


def _counts_and_digests(
    *, offsets: np.ndarray, roles: pa.Array, contents: pa.Array, system: pa.Array
) -> tuple[np.ndarray, list[bytes]]:
    """Token count of every message, and sha256 of every sample's canonical JSON
    (``{"messages": [{"content", "role"}...], "system"}``, keys sorted, as ``sample_hash`` writes it),
    computed by polars in one parallel pass."""
    lists = pa.ListArray.from_arrays(
        pa.array(offsets, pa.int32()), pa.StructArray.from_arrays([contents, roles], names=["content", "role"])
    )
    samples = pl.from_arrow(pa.table({"messages": lists, "system": system})).lazy()
    bodies = samples.select(pl.struct("messages", "system").struct.json_encode().cast(pl.Binary).alias("body"))
    counts = pl.from_arrow(pa.table({"content": contents})).lazy().select(
        pl.col("content").str.count_matches(token_pattern()).fill_null(0).alias("n")
    )
    body_frame, count_frame = pl.collect_all([bodies, counts])
    sha = hashlib.sha256
    digests = [sha(b).digest() for b in body_frame.to_series().to_arrow().to_pylist()]
    return count_frame.to_series().to_numpy().astype(np.int64, copy=False), digests


def _table(
    *, first_idx: int, first_line: int, ids: pa.Array, system: pa.Array, messages: pa.ListArray,
    n_turns: np.ndarray, instruction_tokens: np.ndarray, response_tokens: np.ndarray,
) -> pa.Table:
    n = len(ids)
    columns = {
        "idx": pa.array(np.arange(first_idx, first_idx + n, dtype=np.int64)),
        "id": ids,
        "system": system,
        "messages": messages,
        "n_turns": pa.array(n_turns.astype(np.int32)),
        "instruction_tokens": pa.array(instruction_tokens.astype(np.int32)),
        "response_tokens": pa.array(response_tokens.astype(np.int32)),
        "source": pa.array([f"line {first_line + i}" for i in range(n)], pa.string()),
        "tools": pa.array([""] * n, pa.string()),
    }
    return pa.table([columns[f.name] for f in SAMPLE_SCHEMA], schema=SAMPLE_SCHEMA)


def _alpaca(table: pa.Table, *, first_idx: int, first_line: int) -> Block | None:
    if not set(table.column_names) <= {"instruction", "input", "output", "system", "id"}:
        return None
    if "instruction" not in table.column_names or "output" not in table.column_names:
        return None
    n = table.num_rows
    get = lambda name: table.column(name) if name in table.column_names else None  # noqa: E731
    if get("instruction").null_count or get("output").null_count:
        return None
    instruction, extra, output, system = (_string(get(k), n) for k in ("instruction", "input", "output", "system"))
    ids = _ids(get("id"), first_idx=first_idx, n=n)
    if instruction is None or extra is None or output is None or system is None or ids is None:
        return None
    has_instruction, has_input = pc.not_equal(instruction, ""), pc.not_equal(extra, "")
    joined = pc.binary_join_element_wise(instruction, extra, "\n\n")
    prompt = pc.if_else(pc.and_(has_instruction, has_input), joined, pc.if_else(has_instruction, instruction, extra))
    if _blank(prompt) or _blank(output):
        return None  # empty instruction / empty reply: the record path raises or rejects with its message
    roles = pa.array(["user", "assistant"] * n, pa.string())
    contents = pc.take(pa.concat_arrays([prompt, output]), pa.array(np.arange(2 * n).reshape(2, n).T.ravel()))
    offsets = np.arange(0, 2 * n + 1, 2, dtype=np.int64)
    token_counts, digests = _counts_and_digests(offsets=offsets, roles=roles, contents=contents, system=system)
    instruction_tokens, response_tokens = token_counts[0::2], token_counts[1::2]
    n_turns = np.full(n, 2, dtype=np.int64)
    messages = _messages(offsets=offsets, roles=roles, contents=contents)
    out = _table(
        first_idx=first_idx, first_line=first_line, ids=ids, system=system, messages=messages, n_turns=n_turns,
        instruction_tokens=instruction_tokens, response_tokens=response_tokens,
    )
    return Block(out, instruction_tokens, response_tokens, n_turns, digests)


def _turns(
    table: pa.Table, *, field_name: str, role_key: str, content_key: str, roles: dict[str, str],
    first_idx: int, first_line: int,
) -> Block | None:
    if not set(table.column_names) <= {field_name, "system", "id"} or field_name not in table.column_names:
        return None
    n = table.num_rows
    column = table.column(field_name)
    item = column.type.value_type if pa.types.is_list(column.type) else None
    if item is None or not pa.types.is_struct(item) or {item.field(i).name for i in range(item.num_fields)} != {role_key, content_key}:
        return None
    if any(item.field(k).type not in (pa.string(), pa.large_string()) for k in (role_key, content_key)):
        return None
    lists = column.combine_chunks()
    if lists.null_count or pc.any(pc.equal(pc.list_value_length(lists), 0)).as_py():
        return None
    turns = lists.flatten()
    if turns.null_count:
        return None
    tags, texts = turns.field(role_key), turns.field(content_key)
    if tags.null_count or texts.null_count or not pc.all(pc.string_is_ascii(tags)).as_py():
        return None
    tag_names = [tag for tag in roles if tag not in RECORD_PATH_TAGS]
    positions = pc.index_in(pc.utf8_lower(tags), value_set=pa.array(tag_names))
    if positions.null_count:
        return None  # an unknown role: the record path names it (or maps an alias under repair)
    canonical = np.array([roles[t] for t in tag_names], dtype=object)
    role_of = canonical[positions.to_numpy()]
    offsets = lists.offsets.to_numpy().astype(np.int64) - int(lists.offsets[0].as_py())
    turn_no = np.arange(len(role_of)) - np.repeat(offsets[:-1], np.diff(offsets))
    is_system = role_of == "system"
    if np.any(is_system & (turn_no != 0)):
        return None  # a system turn after the first (or a second one): the record path decides
    top = _string(table.column("system") if "system" in table.column_names else None, n)
    ids = _ids(table.column("id") if "id" in table.column_names else None, first_idx=first_idx, n=n)
    if top is None or ids is None:
        return None
    lead_system = is_system[offsets[:-1]] if len(role_of) else np.zeros(n, dtype=bool)
    turn_system = pc.if_else(pa.array(lead_system), pc.take(texts, pa.array(offsets[:-1])), pa.array([""] * n))
    conflict = pc.and_(pc.and_(pc.not_equal(top, ""), pc.not_equal(turn_system, "")), pc.not_equal(top, turn_system))
    if pc.any(conflict).as_py():
        return None
    system = pc.if_else(pc.not_equal(turn_system, ""), turn_system, top)
    kept_roles = role_of[~is_system]
    counts = np.diff(offsets) - lead_system.astype(np.int64)
    new_offsets = np.concatenate([[0], np.cumsum(counts)])
    if np.any(counts == 0):
        return None
    first, last = new_offsets[:-1], new_offsets[1:] - 1
    if np.any(kept_roles[first] != "user") or np.any(kept_roles[last] != "assistant"):
        return None
    is_user = kept_roles == "user"
    same_sample_next = np.ones(len(kept_roles), dtype=bool)
    same_sample_next[last] = False
    if np.any(is_user[:-1] & is_user[1:] & same_sample_next[:-1]):
        return None  # two user turns in a row
    contents = pc.filter(texts, pa.array(~is_system)) if is_system.any() else texts
    finals = pc.take(contents, pa.array(last))
    if _blank(finals):
        return None
    role_array = pa.array(kept_roles.tolist(), pa.string())
    token_counts, digests = _counts_and_digests(offsets=new_offsets, roles=role_array, contents=contents, system=system)
    sums = np.concatenate([[0], np.cumsum(token_counts)])
    response_tokens = token_counts[last]
    before = counts - 1
    instruction_tokens = sums[last] - sums[first] + np.where(before > 1, _ROLE_TOKENS * before, 0)
    messages = _messages(offsets=new_offsets, roles=role_array, contents=contents)
    out = _table(
        first_idx=first_idx, first_line=first_line, ids=ids, system=system, messages=messages, n_turns=counts,
        instruction_tokens=instruction_tokens, response_tokens=response_tokens,
    )
    return Block(out, instruction_tokens, response_tokens, counts, digests)


_MAX_OPENERS_PER_LINE = 2000  # the JSON reader recurses per nesting level and overflows the stack past ~10,000
_TO_BRACKET = bytes(range(256)).replace(b"{", b"[")
_NOT_OPENER_OR_NEWLINE = bytes(c for c in range(256) if c not in b"[{\n")


def _too_nested_for_the_parser(data: bytes) -> bool:
    """Whether a line might nest deeper than the JSON reader survives: it has that many ``[``/``{`` bytes
    (an upper bound of its depth). Such lines go record by record, where the depth limit refuses them."""
    openers_and_newlines = data.translate(_TO_BRACKET, _NOT_OPENER_OR_NEWLINE)
    return max(map(len, openers_and_newlines.split(b"\n"))) >= _MAX_OPENERS_PER_LINE


def parse_block(data: bytes, *, max_record_bytes: int) -> pa.Table | None:
    """Parse ``data`` (complete JSONL lines) into one row per line, or None when the lines are not plainly clean
    (blank lines, a byte-order mark, an over-long line, invalid JSON or UTF-8, two records on a line...).
    Thread-safe (it releases the GIL while parsing): the pipeline parses the next block while normalising this one."""
    if not data or len(data) > 1 << 30 or data.startswith(b"\xef\xbb\xbf"):
        return None
    if len(data) > max_record_bytes:
        ends = np.flatnonzero(np.frombuffer(data, dtype=np.uint8) == 10)
        lengths = np.diff(np.concatenate([[-1], ends, [len(data) - 1]]))
        if lengths.size and int(lengths.max()) > max_record_bytes:
            return None
    if _too_nested_for_the_parser(data):
        return None
    body = data[:-1] if data.endswith(b"\n") else data
    first_line_text, last_line_text = body[: body.find(b"\n") + 1 or None], body[body.rfind(b"\n") + 1 :]
    if not first_line_text.strip() or not last_line_text.strip() or _INNER_BLANK_LINE.search(body):
        return None  # blank lines are skipped by the record path; rows would not follow line numbers
    table = _parse(data)
    if table is None or table.num_rows != body.count(b"\n") + 1:
        return None  # not one record per line (e.g. two objects on a line)
    return table


def normalise_table(table: pa.Table, *, sample_format: str, first_line: int, first_idx: int) -> Block | None:
    """Normalise the rows of a parsed block (row i is line ``first_line + i``), or None when unclean."""
    if sample_format == "alpaca":
        return _alpaca(table, first_idx=first_idx, first_line=first_line)
    if sample_format == "sharegpt" and "messages" not in table.column_names:
        return _turns(
            table, field_name="conversations", role_key="from", content_key="value", roles=SHAREGPT_ROLES,
            first_idx=first_idx, first_line=first_line,
        )
    if sample_format == "messages":
        return _turns(
            table, field_name="messages", role_key="role", content_key="content", roles=MESSAGE_ROLES,
            first_idx=first_idx, first_line=first_line,
        )
    return None


def normalise_block(data: bytes, *, sample_format: str, first_line: int, first_idx: int, max_record_bytes: int) -> Block | None:
    """Normalise ``data`` (complete JSONL lines, the first being line ``first_line``), or None when unclean."""
    table = parse_block(data, max_record_bytes=max_record_bytes)
    if table is None:
        return None
    return normalise_table(table, sample_format=sample_format, first_line=first_line, first_idx=first_idx)
