"""Leaderboard CSV: dataset names a spreadsheet would run as formulas are escaped; numbers stay numbers."""
from __future__ import annotations

import csv
import io

import pytest
from rest_framework.test import APIClient

from arena.csv_safety import csv_text
from arena.models import Dataset

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("text", ["=HYPERLINK(\"http://x\")", "+1+1", "-2+3", "@SUM(A1)", "\tcmd", "\rcmd"])
def test_formula_like_text_is_escaped(text):
    (row,) = csv.reader(io.StringIO(csv_text([[text, -0.25, 3, None, "plain"]])))
    assert row == ["'" + text, "-0.25", "3", "", "plain"]


def test_leaderboard_csv_escapes_dataset_names(small_board):
    Dataset.objects.filter(slug="alpha").update(name='=HYPERLINK("http://evil.example","click")')
    Dataset.objects.filter(slug="beta").update(name="@SUM(1+1)")
    resp = APIClient().get("/api/v1/leaderboard/", {"base_model": "tiny", "format": "csv"})
    assert resp.status_code == 200
    rows = {r["dataset"]: r for r in csv.DictReader(io.StringIO(resp.content.decode()))}
    assert rows["alpha"]["name"] == "'=HYPERLINK(\"http://evil.example\",\"click\")"
    assert rows["beta"]["name"] == "'@SUM(1+1)"
    assert any(r["delta"].startswith("-") for r in rows.values()) or all(
        not r["delta"] or float(r["delta"]) >= 0 for r in rows.values()
    )  # negative deltas, if any, are written as plain numbers
    assert all(not r["score"].startswith("'") for r in rows.values())
