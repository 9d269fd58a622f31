"""CSV cells safe to open in a spreadsheet: text that a spreadsheet would run as a formula is escaped.

A cell whose text starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return is prefixed with a single
quote (OWASP "CSV injection"). Numbers are written as numbers: ``-0.05`` stays a number.
"""
from __future__ import annotations

import csv
import io
from collections.abc import Iterable

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(value):
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def csv_text(rows: Iterable[Iterable]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    for row in rows:
        writer.writerow([csv_cell(value) for value in row])
    return buffer.getvalue()
