"""The CLI client talks HTTP only: importing it must load neither Django nor Celery, and stay small."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _modules_after(statement: str) -> dict:
    code = (
        "import json, sys\n"
        f"{statement}\n"
        "names = sorted(sys.modules)\n"
        "print(json.dumps({'count': len(names), 'names': names}))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True,
                         env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT)})
    return json.loads(out.stdout)


def test_cli_client_imports_neither_django_nor_celery():
    loaded = _modules_after("import arena.client.cli")
    roots = {name.split(".")[0] for name in loaded["names"]}
    assert "django" not in roots
    assert "celery" not in roots
    assert "kombu" not in roots
    # Measured: 536 modules when arena/__init__.py loaded the Celery app (and Django with it); 316 now, most of
    # them httpx and what httpx's own __init__ pulls in (click, rich, pygments for its CLI).
    assert loaded["count"] < 360, loaded["count"]


def test_django_still_loads_the_celery_app():
    loaded = _modules_after(
        "import os; os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'arena.settings')\n"
        "import django; django.setup()\n"
        "from celery import current_app\n"
        "assert current_app.main == 'arena', current_app.main\n"
        "import arena.tasks\n"
        "assert 'arena.tasks.dataset_ingest_task' in current_app.tasks\n"
    )
    assert "arena.celery" in loaded["names"]
