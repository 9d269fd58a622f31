"""Exact length statistics in bounded memory: a histogram of values, not a list of them."""
from __future__ import annotations

from collections import Counter


class LengthHistogram:
    """Counts how often each length occurs; percentiles are exact, memory is bounded by distinct lengths."""

    def __init__(self) -> None:
        self.counts: Counter[int] = Counter()
        self.n = 0
        self.total = 0

    def add(self, value: int) -> None:
        self.counts[value] += 1
        self.n += 1
        self.total += value

    def add_many(self, values) -> None:
        """Add a whole array of values (a numpy array or a sequence of ints) at once."""
        import numpy as np

        array = np.asarray(values, dtype=np.int64)
        if array.size == 0:
            return
        distinct, counts = np.unique(array, return_counts=True)
        self.counts.update(dict(zip(distinct.tolist(), counts.tolist())))
        self.n += int(array.size)
        self.total += int(array.sum())

    def percentile(self, q: float) -> int:
        if self.n == 0:
            return 0
        rank = max(1, round(q / 100 * self.n))
        seen = 0
        for value in sorted(self.counts):
            seen += self.counts[value]
            if seen >= rank:
                return value
        return max(self.counts)

    def summary(self) -> dict:
        if self.n == 0:
            return {"total": 0, "mean": 0.0, "min": 0, "p10": 0, "median": 0, "p90": 0, "max": 0}
        return {
            "total": self.total,
            "mean": round(self.total / self.n, 3),
            "min": min(self.counts),
            "p10": self.percentile(10),
            "median": self.percentile(50),
            "p90": self.percentile(90),
            "max": max(self.counts),
        }
