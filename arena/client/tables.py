"""Render lists of records as rich tables on stdout."""

from __future__ import annotations

import sys


def _cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.4g}"
    if isinstance(value, int) and not isinstance(value, bool):
        return f"{value:,}"
    if isinstance(value, list):
        return ", ".join(_cell(v) for v in value)
    if isinstance(value, dict):
        return ", ".join(f"{k}={_cell(v)}" for k, v in value.items())
    return str(value)


def print_table(rows: list[dict], *, columns: list[str] | None, title: str) -> None:
    """A table of ``rows``; ``columns=None`` shows every key of the first row, in order."""
    from rich.console import Console  # imported on use: the CLI starts fast and small
    from rich.table import Table

    console = Console(file=sys.stdout, width=None if sys.stdout.isatty() else 200)  # no folding when piped
    if not rows:
        console.print(f"{title}: nothing to show", markup=False)
        return
    if columns is None:
        columns = list(rows[0])
    table = Table(title=title, title_justify="left")
    for column in columns:
        table.add_column(column, overflow="fold")
    for row in rows:
        table.add_row(*(_cell(row.get(column)) for column in columns))
    console.print(table)


def repair_summary(report: dict) -> str:
    """One line from a dataset's ingest report: records repaired and skipped, per rule, most frequent first."""

    def by_rule(counts: dict) -> str:
        return ", ".join(f"{rule} {n}" for rule, n in sorted(counts.items(), key=lambda item: (-item[1], item[0]))) or "none"

    return (
        f"{report.get('repaired', 0)} record(s) repaired ({by_rule(report.get('repairs', {}))}); "
        f"{report.get('rejected', 0)} skipped ({by_rule(report.get('rejects', {}))})"
    )
