"""README command 1 as a new user meets it: the embedded default settings (SQLite under ARENA_VAR_DIR, local
storage, in-process Celery), ``manage.py migrate`` then ``manage.py arena_demo``, in fresh processes.

The PostgreSQL suite cannot see what breaks only on SQLite (e.g. a PostgreSQL-only advisory lock once broke the
demo and every other test passed), so this runs the real command on the real default database, at a small scale,
with training in parallel ``training_run_job`` processes as the demo does.
"""
from __future__ import annotations

import os
import re
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DIVERSE = "Demo arithmetic+logic (clean), diverse half"

pytestmark = [pytest.mark.slow, pytest.mark.timeout(3600)]  # minutes on a quiet 2-core machine; far more on a busy one


def _embedded_env(var_dir: Path) -> dict:
    env = {key: value for key, value in os.environ.items()
           if not key.startswith(("DATABASE_URL", "CELERY_", "ARENA_", "REDIS_", "DJANGO_"))}
    return {**env, "ARENA_VAR_DIR": str(var_dir), "DJANGO_SETTINGS_MODULE": "arena.settings",
            "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1",
            "ARENA_MODEL_CACHE": os.environ.get("ARENA_MODEL_CACHE", str(ROOT / "var" / "models"))}


def _manage(*args: str, env: dict, timeout: int) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=timeout)


def test_demo_command_end_to_end_on_the_embedded_sqlite_default(tmp_path):
    env = _embedded_env(tmp_path / "var")
    migrated = _manage("migrate", "--noinput", env=env, timeout=600)
    assert migrated.returncode == 0, migrated.stderr[-3000:]
    assert "System check identified" not in migrated.stderr, migrated.stderr  # nothing to puzzle a new user

    demo = _manage("arena_demo", "--size", "60", "--seeds", "0", "--processes", "2", env=env, timeout=3000)
    out, err = demo.stdout, demo.stderr
    assert demo.returncode == 0, f"{out[-3000:]}\n{err[-3000:]}"
    assert "Traceback" not in err and "No hostname was supplied" not in err, err[-3000:]
    for step in ("1/5", "2/5", "3/5", "4/5", "5/5"):
        assert f"] {step} " in out, out
    assert "scoring: 100%" in err and "training: 100%" in err, err[-2000:]  # the progress bars reach the end

    database = tmp_path / "var" / "arena.sqlite3"
    assert database.is_file()  # the embedded default, not a server
    with sqlite3.connect(database) as db:
        statuses = dict(db.execute("SELECT status, count(*) FROM training_job GROUP BY status").fetchall())
        assert statuses == {"succeeded": 6}, statuses  # 4 datasets + the diverse half + the base model, 2 processes
        runs = db.execute("SELECT count(*) FROM scoring_scoringrun WHERE status = 'succeeded'").fetchone()[0]
        assert runs == 5
    rows = re.findall(r"#\d+\s+([0-9.]+) \[([0-9.]+), ([0-9.]+)\] delta [-+0-9.]+\s+(.+)", out)
    assert {name for *_, name in rows} >= {"Demo arithmetic+logic (clean)", DIVERSE}, out
    assert all(float(low) <= float(score) <= float(high) for score, low, high, _ in rows), rows

    again = _manage("arena_demo", "--size", "60", "--seeds", "0", "--processes", "2", env=env, timeout=600)
    assert again.returncode == 0, again.stderr[-3000:]
    assert "already scored" in again.stdout  # idempotent: a second run reuses every run and job
    with sqlite3.connect(database) as db:
        assert db.execute("SELECT count(*) FROM training_job").fetchone()[0] == 6
