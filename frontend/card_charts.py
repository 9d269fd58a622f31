"""Geometry for the dataset card's inline SVG charts (no JavaScript, no requests): score-distribution small
multiples against the median of the visible datasets, and a radar of the scoring-axis families."""
from __future__ import annotations

import math

PANEL_W, PANEL_H = 230, 96  # px of one small multiple's plotting area
RADAR_R = 100


def _counts(histogram) -> list[float]:
    if isinstance(histogram, dict):
        return [float(c) for c in histogram.get("counts") or []]
    return [float(c) for c in histogram or []]


def small_multiple(*, summary: dict, median: dict | None) -> dict:
    """One panel: histogram bars of the normalised scores (share of samples per bin over [0, 1]), this dataset's
    normalised mean and the visible datasets' median of that mean as x positions."""
    counts = _counts(summary.get("histogram"))
    total = sum(counts)
    mean = (summary.get("normalised") or {}).get("mean")
    panel = {"axis": summary["axis"], "scorer": summary["scorer"], "higher_is_better": summary["higher_is_better"],
             "mean": mean, "raw_mean": summary.get("mean"), "median": None, "median_n": 0, "bars": [],
             "available": total > 0, "w": PANEL_W, "h": PANEL_H}
    if total > 0:
        top = max(counts) / total
        width = PANEL_W / len(counts)
        for i, c in enumerate(counts):
            h = (c / total) / top * PANEL_H if top else 0
            panel["bars"].append({"x": round(i * width, 1), "y": round(PANEL_H - h, 1), "w": round(width - 1, 1),
                                  "h": round(h, 1)})
    if mean is not None:
        panel["mean_x"] = round(min(max(mean, 0.0), 1.0) * PANEL_W, 1)
    if median:
        panel["median"], panel["median_n"] = median["median"], median["n"]
        panel["median_x"] = round(min(max(median["median"], 0.0), 1.0) * PANEL_W, 1)
    return panel


def _family_values(summaries: list[dict], medians: dict) -> list[tuple[str, float, float | None]]:
    """Per axis family: mean over its scorers of the normalised mean, oriented so that outward is better by each
    scorer's declared direction; and the same for the visible datasets' medians."""
    families: dict[str, list[tuple[float, float | None]]] = {}
    for s in summaries:
        mean = (s.get("normalised") or {}).get("mean")
        if mean is None or s.get("scope") == "setwise":
            continue
        med = medians.get((s["scorer"], s.get("config_hash", "")))
        flip = (lambda v: 1.0 - v) if not s["higher_is_better"] else (lambda v: v)
        families.setdefault(s["axis"], []).append((flip(mean), flip(med["median"]) if med else None))
    out = []
    for axis in sorted(families):
        pairs = families[axis]
        meds = [m for _, m in pairs if m is not None]
        out.append((axis, sum(v for v, _ in pairs) / len(pairs), sum(meds) / len(meds) if meds else None))
    return out


def radar(*, summaries: list[dict], medians: dict) -> dict | None:
    """Polygon points for this dataset and for the median dataset over the axis families (None below 3 axes)."""
    values = _family_values(summaries, medians)
    if len(values) < 3:
        return None
    c = RADAR_R + 100  # room for the labels around the circle

    def point(i: int, v: float) -> tuple[float, float]:
        angle = -math.pi / 2 + 2 * math.pi * i / len(values)
        return round(c + RADAR_R * v * math.cos(angle), 1), round(c + RADAR_R * v * math.sin(angle), 1)

    axes = []
    for i, (axis, v, med) in enumerate(values):
        x, y = point(i, 1.08)
        anchor = "middle" if abs(x - c) < 5 else ("start" if x > c else "end")
        axes.append({"axis": axis, "value": v, "median": med, "x2": point(i, 1.0)[0], "y2": point(i, 1.0)[1],
                     "lx": x, "ly": y, "anchor": anchor})
    mine = " ".join(f"{x},{y}" for x, y in (point(i, v) for i, (_, v, _) in enumerate(values)))
    has_median = all(m is not None for _, _, m in values)
    median = " ".join(f"{x},{y}" for x, y in (point(i, m) for i, (_, _, m) in enumerate(values))) if has_median \
        else ""
    rings = [{"r": round(RADAR_R * f, 1), "label": f"{f:.2g}"} for f in (0.25, 0.5, 0.75, 1.0)]
    return {"size": 2 * c, "c": c, "axes": axes, "points": mine, "median_points": median, "rings": rings}
