"""Dataset-level statistics of one score column.

Memory: the merged scores file is read one column at a time (Parquet column projection), so the peak
is one float64 array of the dataset's length (8 bytes per sample: 80 MB for 10 million samples), never
the samples or the other scorers' columns. That buys *exact* median and percentiles; a dataset large
enough for that to matter would switch to a t-digest here without touching the callers.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from arena.storage import open_parquet
from scoring.score_files import norm_column, raw_column

HISTOGRAM_BINS = 20


@dataclass
class ColumnStats:
    count: int = 0
    null_count: int = 0
    mean: float | None = None
    median: float | None = None
    p10: float | None = None
    p90: float | None = None
    std: float | None = None
    raw_min: float | None = None
    raw_max: float | None = None
    norm_mean: float | None = None
    norm_median: float | None = None
    histogram: list[int] = field(default_factory=lambda: [0] * HISTOGRAM_BINS)


def _values(parquet, column: str) -> tuple[np.ndarray, int]:
    array = parquet.read(columns=[column]).column(0)
    nulls = array.null_count
    values = array.drop_null().to_numpy(zero_copy_only=False).astype(np.float64, copy=False)
    nan = np.isnan(values)
    if nan.any():
        nulls += int(nan.sum())
        values = values[~nan]
    return values, nulls


def column_stats(*, scores_file: str, scorer: str) -> ColumnStats:
    parquet = open_parquet(scores_file)
    raw, nulls = _values(parquet, raw_column(scorer))
    stats = ColumnStats(count=int(raw.size), null_count=int(nulls))
    if raw.size:
        p10, median, p90 = np.percentile(raw, [10, 50, 90])
        stats.mean, stats.median, stats.p10, stats.p90 = float(raw.mean()), float(median), float(p10), float(p90)
        stats.std, stats.raw_min, stats.raw_max = float(raw.std()), float(raw.min()), float(raw.max())
    del raw
    norm, _ = _values(parquet, norm_column(scorer))
    if norm.size:
        stats.norm_mean, stats.norm_median = float(norm.mean()), float(np.median(norm))
        counts, _ = np.histogram(norm, bins=HISTOGRAM_BINS, range=(0.0, 1.0))
        stats.histogram = [int(c) for c in counts]
    return stats
