"""Leaderboard through a real server: gunicorn (2 workers, ``--preload``, ``gunicorn.conf.py``) over loopback HTTP
at 1,000 datasets x 25 benchmarks x 3 base models x 3 seeds (225k results, ``bench/seed_leaderboard.py``).

The contender is the raw SQL floor: the same aggregation (seed scores per dataset and benchmark of one base model)
in one SQL query with psycopg, no server, no statistics. Targets are absolute (issue 17): ``arena`` holds the
figure in ms, ``contender_value`` the SQL floor in ms, ``ratio`` = floor / Arena (the share of the request the
floor alone would take), ``target`` is None and ``met`` says whether the figure is under the target given in
``notes``. Rounds interleave Arena and the floor (A, B, A, B, ...).

Environment: ``ARENA_BENCH_DB`` (default ``arena_bench_leaderboard``, created and seeded once; never ``arena``),
``ARENA_BENCH_PORT`` (8105), ``ARENA_BENCH_REDIS`` (``redis://127.0.0.1:6379/7``; keys under a per-run prefix,
nothing is flushed).
"""
from __future__ import annotations

import gzip
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)

NAME = "leaderboard"
DB = os.environ.get("ARENA_BENCH_DB", "arena_bench_leaderboard")
PORT = int(os.environ.get("ARENA_BENCH_PORT", "8105"))
REDIS = os.environ.get("ARENA_BENCH_REDIS", "redis://127.0.0.1:6379/7")
HOST = "127.0.0.1"
BASE_MODEL = "bench-base-0"
FLOOR_SQL = """
SELECT j.dataset_id, r.benchmark_id, array_agg(r.score ORDER BY j.seed, r.job_id)
FROM training_evalresult r JOIN training_job j ON r.job_id = j.id
WHERE j.base_model_id = %s AND j.status = 'succeeded' GROUP BY 1, 2
"""


def dash_board_body(base_model: str) -> dict:
    """The leaderboard table callback's request body as the page sends it on a base-model change."""
    outputs = ("table", "columns"), ("table", "data"), ("table", "page_count"), ("ci-figure", "figure"), \
        ("csv", "href"), ("note", "children")
    inputs = [("base-model", "value", base_model), ("view", "value", ""), ("search", "value", ""),
              ("tags", "value", []), ("tag-match", "value", "any"), ("size-min", "value", None),
              ("size-max", "value", None), ("year", "value", None), ("table", "sort_by", []),
              ("table", "page_current", 0), ("expanded", "data", [])]
    return {
        "output": "..table.columns...table.data...table.page_count...ci-figure.figure...csv.href...note.children..",
        "outputs": [{"id": i, "property": p} for i, p in outputs],
        "inputs": [{"id": i, "property": p, "value": v} for i, p, v in inputs],
        "changedPropIds": ["base-model.value"],
        "state": [],
    }


DASH_BODY = dash_board_body(BASE_MODEL)


def _env(prefix: str) -> dict:
    env = dict(os.environ)
    env.update(
        DATABASE_URL=f"postgres://postgres@127.0.0.1:5432/{DB}", DJANGO_SETTINGS_MODULE="arena.settings",
        DJANGO_DEBUG="false", DJANGO_SECRET_KEY=secrets.token_urlsafe(50), DJANGO_ALLOWED_HOSTS="127.0.0.1,localhost",
        REDIS_CACHE_URL=REDIS, ARENA_CACHE_PREFIX=prefix, HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1",
    )
    return env


class Server:
    def __init__(self, env: dict):
        self.env, self.process = env, None

    def start(self) -> float:
        """Start gunicorn; returns seconds until the port accepts connections."""
        started = time.perf_counter()
        self.process = subprocess.Popen(
            [os.path.join(os.path.dirname(sys.executable), "gunicorn"), "arena.wsgi:application", "--bind",
             f"{HOST}:{PORT}", "--workers", "2", "--threads", "4", "--preload", "--timeout", "120",
             "--keep-alive", "75", "--log-level", "warning"],
            cwd=ROOT, env=self.env, stdout=subprocess.DEVNULL, stderr=open(os.path.join(tempfile.gettempdir(), "arena-bench-gunicorn.log"), "ab"),
            start_new_session=True,
        )
        while True:
            if self.process.poll() is not None:
                raise RuntimeError(f"gunicorn exited; see {tempfile.gettempdir()}/arena-bench-gunicorn.log")
            try:
                with socket.create_connection((HOST, PORT), timeout=0.2):
                    return time.perf_counter() - started
            except OSError:
                time.sleep(0.02)

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            self.process.wait(timeout=30)
        self.process = None


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def _median(values: list[float]) -> float:
    return _pct(values, 0.5)


def run(*, quick: bool) -> list[dict]:
    os.environ.update(_env(f"bench-{os.getpid()}"))
    from bench.seed_leaderboard import ensure_database, seed

    ensure_database(DB)
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    seed()
    import httpx
    import numpy as np
    import psycopg
    from django.db import connections

    from training.models import BaseModel, Benchmark, EvalResult, Job

    bm = BaseModel.objects.get(slug=BASE_MODEL)
    benchmarks = list(Benchmark.objects.filter(slug__startswith="bench-"))
    datasets = list(Job.objects.filter(base_model=bm, dataset__isnull=False).values_list("dataset_id", flat=True)
                    .distinct()[:50])
    connections.close_all()
    pg = psycopg.connect(f"postgresql://postgres@127.0.0.1:5432/{DB}", autocommit=True)

    def floor_ms() -> float:
        t0 = time.perf_counter()
        pg.execute(FLOOR_SQL, (bm.pk,)).fetchall()
        return (time.perf_counter() - t0) * 1000

    rounds = 3 if quick else 5
    n_warm = 40 if quick else 150
    server = Server(dict(os.environ))
    api = f"http://{HOST}:{PORT}/api/v1/leaderboard/"
    params = {"base_model": BASE_MODEL}
    rows, load_before = [], os.getloadavg()[0]
    try:
        # cold board (nothing in the shared cache), once
        server.start()
        with httpx.Client(timeout=120) as client:
            t0 = time.perf_counter()
            assert client.get(api, params=params).status_code == 200
            cold_ms = (time.perf_counter() - t0) * 1000
        # first request after a restart (board in the shared cache), interleaved with the floor
        first, floors, up = [], [], []
        for _ in range(rounds):
            server.stop()
            up.append(server.start())
            with httpx.Client(timeout=120) as client:
                t0 = time.perf_counter()
                assert client.get(api, params=params).status_code == 200
                first.append((time.perf_counter() - t0) * 1000)
            floors.append(floor_ms())
        rows.append(_row("first request after a restart", first, floors, 1000,
                         f"median of {rounds} restarts; port open {(_median(up)):.2f} s after spawn (preload); "
                         f"cold board (empty cache) {cold_ms:.0f} ms"))
        # a board after a new result: one more succeeded job (engine-like bulk write) then the next request
        after, floors = [], []
        rng = np.random.default_rng(1)
        with httpx.Client(timeout=120) as client:
            for i in range(rounds):
                job = Job.objects.create(dataset_id=datasets[i], base_model=bm, seed=3 + i, status="succeeded")
                EvalResult.objects.bulk_create([EvalResult(job=job, benchmark=b, score=float(rng.uniform(0.2, 0.7)),
                                                           n_items=100) for b in benchmarks])
                connections.close_all()
                t0 = time.perf_counter()
                assert client.get(api, params=params).status_code == 200
                after.append((time.perf_counter() - t0) * 1000)
                floors.append(floor_ms())
        rows.append(_row("board after a new result", after, floors, 300, f"median of {rounds} new jobs"))
        # warm API, full board and a 100-row page, and the Dash table callback
        with httpx.Client(timeout=120, headers={"Accept-Encoding": "gzip"}) as client:
            full, page, dash, floors = [], [], [], []
            dash_url = f"http://{HOST}:{PORT}/django_plotly_dash/app/arena-leaderboard/_dash-update-component"
            for _ in range(3):
                client.get(api, params=params)
                client.post(dash_url, content=json.dumps(DASH_BODY), headers={"Content-Type": "application/json"})
            for i in range(n_warm):
                for name in (("full", "page", "dash") if i % 2 == 0 else ("dash", "page", "full")):
                    t0 = time.perf_counter()
                    if name == "full":
                        r = client.get(api, params=params)
                    elif name == "page":
                        r = client.get(api, params={**params, "limit": 100})
                    else:
                        r = client.post(dash_url, content=json.dumps(DASH_BODY),
                                        headers={"Content-Type": "application/json"})
                    assert r.status_code == 200, r.text[:300]
                    {"full": full, "page": page, "dash": dash}[name].append((time.perf_counter() - t0) * 1000)
                if i % 10 == 0:
                    floors.append(floor_ms())
            page_resp = client.get(api, params={**params, "limit": 100})
            wire = len(page_resp.content) if page_resp.headers.get("content-encoding") != "gzip" else None
            raw_page = client.get(api, params={**params, "limit": 100}, headers={"Accept-Encoding": "identity"})
            full_raw = client.get(api, params=params, headers={"Accept-Encoding": "identity"})
        page_wire = len(gzip.compress(raw_page.content)) if wire is None else wire
        gz = page_resp.headers.get("content-encoding") == "gzip"
        rows.append(_row("warm API p95 (full board, 1,000 rows)", full, floors, 100,
                         f"p50 {_median(full):.0f} ms, n={len(full)}; body {len(full_raw.content) / 1e6:.2f} MB raw",
                         stat="p95"))
        rows.append(_row("warm API p95 (100-row page)", page, floors, 100,
                         f"p50 {_median(page):.0f} ms, n={len(page)}", stat="p95"))
        rows.append(_row("warm Dash table callback p95", dash, floors, 150,
                         f"p50 {_median(dash):.0f} ms, n={len(dash)}", stat="p95"))
        rows.append({
            "comparison": "leaderboard: 100-row page size", "arena": round(page_wire / 1000, 1),
            "contender": "uncompressed", "contender_value": round(len(raw_page.content) / 1000, 1), "unit": "KB",
            "ratio": round(len(raw_page.content) / page_wire, 2), "target": None, "met": bool(gz and page_wire < 100_000),
            "rounds": 1, "notes": f"target < 100 KB on the wire; gzip {'on' if gz else 'OFF'}",
        })
    finally:
        server.stop()
        pg.close()
    load_after = os.getloadavg()[0]
    for row in rows:
        row["notes"] += f"; load {load_before:.1f}->{load_after:.1f} on {os.cpu_count()} CPUs"
    return rows


def _row(what: str, arena: list[float], floor: list[float], target_ms: float, notes: str, stat: str = "median"
         ) -> dict:
    value = _pct(arena, 0.95) if stat == "p95" else _median(arena)
    floor_value = _median(floor)
    return {
        "comparison": f"leaderboard: {what}", "arena": round(value, 1), "contender": "raw SQL floor (one query)",
        "contender_value": round(floor_value, 1), "unit": "ms", "ratio": round(floor_value / value, 3),
        "target": None, "met": value < target_ms, "rounds": len(arena),
        "notes": f"target < {target_ms:.0f} ms; {notes}",
    }


if __name__ == "__main__":
    quick = "--quick" in sys.argv
    for r in run(quick=quick):
        print(json.dumps(r))
