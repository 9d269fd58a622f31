"""Small display filters for the server-rendered pages."""
from __future__ import annotations

from django import template

from training.leaderboard.selectors import compact_count

register = template.Library()


@register.filter
def compact(value) -> str:
    """2000 -> "2k", 207865 -> "208k": sizes at a glance (the exact number goes in a title attribute)."""
    try:
        return compact_count(int(value))
    except (TypeError, ValueError):
        return "–"


@register.filter
def report_rows(report) -> list[tuple[str, str]]:
    """A (possibly nested) report dict as readable (label, value) rows: {"repaired": {"empty_turns": 3}} ->
    [("repaired · empty turns", "3")]. Lists are joined; anything else is shown as text."""
    rows: list[tuple[str, str]] = []

    def walk(prefix: str, value) -> None:
        if isinstance(value, dict):
            for key, inner in value.items():
                walk(f"{prefix} · {key}" if prefix else str(key), inner)
        elif isinstance(value, (list, tuple)):
            rows.append((prefix.replace("_", " "), ", ".join(str(v) for v in value[:20])
                         + (f" … ({len(value)} in all)" if len(value) > 20 else "")))
        else:
            rows.append((prefix.replace("_", " "), f"{value:,}" if isinstance(value, int) else str(value)))

    if isinstance(report, dict):
        walk("", report)
    elif report:
        rows.append(("report", str(report)))
    return rows
