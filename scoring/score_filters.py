"""Score filters: ``scorer[.raw]:min:max`` -- on the normalised value by default, on the raw value with ``.raw``.

Either bound may be empty (open); bounds are inclusive; a sample whose score is undefined (null)
never passes a filter on that scorer. Examples: ``ifd:0.2:0.9``, ``mtld.raw:50:``, ``repetition::0.1``.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

import pyarrow as pa
import pyarrow.compute as pc

from arena.errors import InvalidInput
from scoring.score_files import norm_column, raw_column

_NAME_RE = re.compile(r"^[a-z0-9_]+$")


@dataclass(frozen=True)
class ScoreFilter:
    scorer: str
    basis: str = "norm"  # "norm" (normalised, 0..1) or "raw"
    low: float | None = None
    high: float | None = None

    @property
    def column(self) -> str:
        return raw_column(self.scorer) if self.basis == "raw" else norm_column(self.scorer)

    def describe(self) -> str:
        what = f"{self.scorer} ({'raw' if self.basis == 'raw' else 'normalised'})"
        if self.low is not None and self.high is not None:
            return f"{self.low:g} <= {what} <= {self.high:g}"
        if self.low is not None:
            return f"{what} >= {self.low:g}"
        return f"{what} <= {self.high:g}"

    def as_text(self) -> str:
        name = self.scorer + (".raw" if self.basis == "raw" else "")
        low = "" if self.low is None else f"{self.low:g}"
        high = "" if self.high is None else f"{self.high:g}"
        return f"{name}:{low}:{high}"


def _bound(text, *, spec: str, which: str) -> float | None:
    if text is None or (isinstance(text, str) and text.strip() == ""):
        return None
    try:
        value = float(text)
    except (TypeError, ValueError):
        raise InvalidInput(f"filter {spec!r}: {which} bound {text!r} is not a number") from None
    if math.isnan(value) or math.isinf(value):
        raise InvalidInput(f"filter {spec!r}: {which} bound must be a finite number")
    return value


def _make(*, spec: str, name: str, low, high) -> ScoreFilter:
    basis = "norm"
    if name.endswith(".raw"):
        name, basis = name[: -len(".raw")], "raw"
    elif name.endswith(".norm"):
        name = name[: -len(".norm")]
    if not _NAME_RE.match(name):
        raise InvalidInput(f"filter {spec!r}: {name!r} is not a scorer name")
    result = ScoreFilter(
        scorer=name, basis=basis, low=_bound(low, spec=spec, which="min"), high=_bound(high, spec=spec, which="max")
    )
    if result.low is None and result.high is None:
        raise InvalidInput(f"filter {spec!r} has neither a min nor a max bound")
    if result.low is not None and result.high is not None and result.low > result.high:
        raise InvalidInput(f"filter {spec!r}: min {result.low:g} is greater than max {result.high:g}")
    return result


def parse_filter(spec) -> ScoreFilter:
    """``"name[.raw]:min:max"`` or ``{"scorer": name, "min": .., "max": .., "basis": "norm"|"raw"}``."""
    if isinstance(spec, dict):
        unknown = set(spec) - {"scorer", "min", "max", "basis"}
        if unknown:
            raise InvalidInput(
                f"filter {spec!r}: unknown key(s) {', '.join(sorted(unknown))}; use scorer, min, max, basis"
            )
        basis = spec.get("basis", "norm")
        if basis not in ("norm", "raw"):
            raise InvalidInput(f"filter {spec!r}: basis must be 'norm' or 'raw', got {basis!r}")
        name = str(spec.get("scorer") or "") + (".raw" if basis == "raw" else "")
        return _make(spec=str(spec), name=name, low=spec.get("min"), high=spec.get("max"))
    if not isinstance(spec, str):
        raise InvalidInput(f"a filter must be a string 'scorer[.raw]:min:max' or an object, got {spec!r}")
    parts = spec.split(":")
    if len(parts) != 3:
        raise InvalidInput(f"filter {spec!r} must look like 'scorer[.raw]:min:max' (either bound may be empty)")
    return _make(spec=spec, name=parts[0].strip(), low=parts[1].strip(), high=parts[2].strip())


def parse_filters(specs) -> list[ScoreFilter]:
    if specs is None:
        return []
    if not isinstance(specs, list):
        raise InvalidInput("filters must be a list")
    return [parse_filter(spec) for spec in specs]


def filter_mask(batch: pa.RecordBatch, filters: list[ScoreFilter]) -> pa.Array:
    """A boolean array: True where the row passes every filter (null scores fail)."""
    mask = pa.array([True] * batch.num_rows, type=pa.bool_())
    for item in filters:
        column = batch.column(batch.schema.get_field_index(item.column))
        if item.low is not None:
            mask = pc.and_(mask, pc.fill_null(pc.greater_equal(column, item.low), False))
        if item.high is not None:
            mask = pc.and_(mask, pc.fill_null(pc.less_equal(column, item.high), False))
    return mask
