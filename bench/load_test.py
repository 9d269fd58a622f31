"""Load test: N concurrent users browse, upload and start scoring runs against a real Arena server (gunicorn).

    .venv/bin/python bench/load_test.py                       # 16 users for 60 s on 127.0.0.1:8106
    .venv/bin/python bench/load_test.py --users 8 --duration 30 --broker redis://127.0.0.1:6379/9

The script builds a throwaway database (SQLite file in a temp dir, or a fresh PostgreSQL database
that is dropped afterwards), migrates it, seeds users, tokens and datasets, starts gunicorn on a
free loopback port, runs the users as plain threads for a bounded time and request count, stops
the server and prints requests/s, p50/p95 latency per endpoint, the errors seen, the read p95 against the target
(0 errors, read p95 < 500 ms) and the machine's load average, since other work on the machine moves the figures.
Only loopback addresses are used. Without ``--broker`` uploads ingest and scoring runs score inside the request
(Celery runs eagerly); with a broker they are only queued, as in a deployment (no worker is started).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import secrets
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import defaultdict
from contextlib import contextmanager
from dataclasses import dataclass, field

import httpx

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PYTHON = sys.executable
HOST = "127.0.0.1"

SEED_SCRIPT = """
import io, json
from django.contrib.auth import get_user_model
from arena.api_tokens import token_create
from arena.services import dataset_register
tokens = []
for n in range({users}):
    user = get_user_model().objects.create_user(f"load{{n}}", password="load-password")
    tokens.append(token_create(user=user, name='load').key)
slugs = []
owner = get_user_model().objects.get(username="load0")
for d in range({datasets}):
    rows = "".join(
        json.dumps({{"instruction": f"seed {{d}} q {{i}} " + "word " * 12, "input": "", "output": f"answer {{i}}"}})
        + "\\n"
        for i in range({samples})
    )
    upload = io.BytesIO(rows.encode())
    dataset = dataset_register(owner=owner, upload=upload, filename="seed.jsonl", name=f"seed {{d}}", ingest_now=True)
    slugs.append(dataset.slug)
print(json.dumps({{"tokens": tokens, "slugs": slugs}}))
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


@contextmanager
def throwaway_database(kind: str, workdir: str):
    if kind == "sqlite":
        yield f"sqlite:///{os.path.join(workdir, 'load.sqlite3')}"
        return
    import psycopg

    name = f"arena_load_{os.getpid()}"
    admin = "postgresql://postgres@127.0.0.1:5432/postgres"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"postgres://postgres@127.0.0.1:5432/{name}"
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def server_env(*, database_url: str, workdir: str, broker: str = "", cache: str = "") -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CELERY_", "ARENA_", "DJANGO_"))}
    env.update(
        DATABASE_URL=database_url,
        ARENA_VAR_DIR=workdir,
        ARENA_STORAGE=os.path.join(workdir, "storage"),
        ARENA_TMP_DIR=os.path.join(workdir, "tmp"),
        ARENA_UPLOAD_RATE="1000000/hour",  # measure the server, not the throttle
        ARENA_JOB_LAUNCH_RATE="1000000/hour",
        DJANGO_DEBUG="false",
        DJANGO_SECRET_KEY=secrets.token_urlsafe(50),
        DJANGO_ALLOWED_HOSTS=HOST,
        HF_HUB_OFFLINE="1",
        PYTHONUNBUFFERED="1",
    )
    if broker:
        env.update(CELERY_BROKER_URL=broker, CELERY_RESULT_BACKEND=broker)
    if cache:
        env.update(REDIS_CACHE_URL=cache)
    return env


def prepare(env: dict, *, users: int, datasets: int, samples: int) -> dict:
    subprocess.run([PYTHON, "manage.py", "migrate", "--noinput", "-v", "0"], cwd=ROOT, env=env, check=True)
    script = SEED_SCRIPT.format(users=users, datasets=datasets, samples=samples)
    out = subprocess.run(
        [PYTHON, "manage.py", "shell", "-c", script], cwd=ROOT, env=env, check=True, capture_output=True, text=True
    ).stdout
    return json.loads(out.strip().splitlines()[-1])


SERVER_PID = [0]


def server_cpu_seconds() -> float:
    """CPU seconds (user + system) of the gunicorn master and its workers so far: what the server itself spent,
    independent of how many cores other work on the machine leaves it."""
    import psutil

    try:
        master = psutil.Process(SERVER_PID[0])
        total = 0.0
        for proc in [master, *master.children(recursive=True)]:
            times = proc.cpu_times()
            total += times.user + times.system
        return total
    except psutil.Error:
        return float("nan")


@contextmanager
def running_server(env: dict, *, port: int, workers: int, threads: int, log_path: str):
    log = open(log_path, "wb")
    process = subprocess.Popen(
        [
            os.path.join(os.path.dirname(PYTHON), "gunicorn"),
            "arena.wsgi:application",
            "--bind",
            f"{HOST}:{port}",
            "--workers",
            str(workers),
            "--threads",
            str(threads),
            "--timeout",
            "120",
            "--preload",
            "--keep-alive",  # longer than the clients' idle gaps: no reset of a reused keep-alive connection
            "75",
            "--log-level",
            "warning",
        ],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        # with --preload the port opens once the app, its routes and views are loaded (gunicorn.conf.py): on a
        # machine loaded by other work that can take a while
        deadline = time.monotonic() + float(os.environ.get("ARENA_LOAD_START_TIMEOUT", "240"))
        started = time.monotonic()
        while True:
            try:
                if httpx.get(f"http://{HOST}:{port}/api/v1/datasets/?limit=1", timeout=10).status_code == 200:
                    print(f"server ready after {time.monotonic() - started:.1f} s", file=sys.stderr)
                    break
            except httpx.TransportError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                raise SystemExit(f"the server did not start; see {log_path}")
            time.sleep(0.3)
        SERVER_PID[0] = process.pid
        yield f"http://{HOST}:{port}"
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
        log.close()


@dataclass
class Results:
    latencies: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    errors: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    error_examples: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    count: int = 0

    def record(self, endpoint: str, seconds: float, problem: str | None) -> None:
        with self.lock:
            self.count += 1
            self.latencies[endpoint].append(seconds)
            if problem:
                self.errors[endpoint] += 1
                if len(self.error_examples) < 5:
                    self.error_examples.append(f"{endpoint}: {problem}")


def user_loop(
    n: int,
    *,
    base_url: str,
    token: str,
    slugs: list[str],
    results: Results,
    stop_at: float,
    max_requests: int,
    upload_share: float,
    scoring_share: float,
) -> None:
    rng = random.Random(n)
    api = httpx.Client(base_url=base_url, headers={"Authorization": f"Token {token}"}, timeout=60)
    browser = httpx.Client(base_url=base_url, timeout=60)
    uploads = 0
    actions = [
        ("GET api list", 3, lambda: api.get("/api/v1/datasets/", params={"limit": 20})),
        ("GET api detail", 3, lambda: api.get(f"/api/v1/datasets/{rng.choice(slugs)}/")),
        (
            "GET api samples",
            3,
            lambda: api.get(
                f"/api/v1/datasets/{rng.choice(slugs)}/samples/", params={"offset": rng.randrange(0, 150), "limit": 20}
            ),
        ),
        ("GET page list", 2, lambda: browser.get("/datasets/")),
        ("GET page detail", 2, lambda: browser.get(f"/datasets/{rng.choice(slugs)}/")),
    ]
    names, weights = [a[0] for a in actions], [a[1] for a in actions]
    try:
        while time.monotonic() < stop_at and results.count < max_requests:
            roll = rng.random()
            if roll < scoring_share:
                endpoint, expected = "POST api score", (201, 202)
                dataset = rng.choice(slugs)

                def call(dataset=dataset):
                    return api.post("/api/v1/scoring/runs/", json={"dataset": dataset, "scorers": [{"name": "mtld"}]})
            elif roll < scoring_share + upload_share:
                uploads += 1
                rows = "".join(
                    json.dumps(
                        {
                            "instruction": f"user {n} upload {uploads} item {i} " + "word " * 10,
                            "input": "",
                            "output": "ok",
                        }
                    )
                    + "\n"
                    for i in range(50)
                )
                endpoint, call = (
                    "POST api upload",
                    lambda: api.post(
                        "/api/v1/datasets/",
                        data={"name": f"load {n}-{uploads}"},
                        files={"file": ("load.jsonl", rows.encode())},
                    ),
                )
                expected = (201, 202)
            else:
                endpoint = rng.choices(names, weights)[0]
                call = dict((a[0], a[2]) for a in actions)[endpoint]
                expected = (200,)
            started = time.perf_counter()
            try:
                response = call()
                problem = (
                    None if response.status_code in expected else f"HTTP {response.status_code} {response.text[:120]}"
                )
            except httpx.HTTPError as exc:
                problem = f"{type(exc).__name__}: {exc}"
            results.record(endpoint, time.perf_counter() - started, problem)
    finally:
        api.close()
        browser.close()


def percentile(values: list[float], q: float) -> float:
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1]


def report(results: Results, *, elapsed: float, args) -> None:
    total = sum(len(v) for v in results.latencies.values())
    errors = sum(results.errors.values())
    print(
        f"\nArena load test: {args.users} users, {elapsed:.1f} s, db={args.db}, "
        f"gunicorn {args.workers}x{args.threads} threads, {os.cpu_count()} CPUs"
    )
    print(f"{total} requests, {total / elapsed:.1f} requests/s, {errors} errors\n")
    print(f"{'endpoint':<18} {'count':>6} {'req/s':>7} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8} {'errors':>6}")
    for endpoint in sorted(results.latencies):
        values = results.latencies[endpoint]
        print(
            f"{endpoint:<18} {len(values):>6} {len(values) / elapsed:>7.1f} {percentile(values, 50) * 1000:>8.1f} "
            f"{percentile(values, 95) * 1000:>8.1f} {max(values) * 1000:>8.1f} {results.errors.get(endpoint, 0):>6}"
        )
    for example in results.error_examples:
        print(f"  error: {example}")
    reads = [v for endpoint, values in results.latencies.items() if endpoint.startswith("GET") for v in values]
    if reads:
        read_p95 = percentile(reads, 95) * 1000
        verdict = "met" if errors == 0 and read_p95 < 500 else "NOT met"
        print(f"\nreads: p50 {percentile(reads, 50) * 1000:.1f} ms, p95 {read_p95:.1f} ms; "
              f"target (0 errors, read p95 < 500 ms): {verdict}")


def print_server_errors(log_path: str, *, limit: int = 5) -> None:
    """The last distinct exception lines of the server log, so an error count comes with its cause."""
    with open(log_path, errors="replace") as handle:
        lines = [line.rstrip() for line in handle if "Error" in line or "Exception" in line]
    causes = list(dict.fromkeys(lines))[-limit:]
    for cause in causes:
        print(f"  server log: {cause[:200]}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=16)
    parser.add_argument("--duration", type=float, default=60.0, help="seconds of load")
    parser.add_argument("--port", type=int, default=8106, help="loopback port for gunicorn (0: any free port)")
    parser.add_argument("--scoring-share", type=float, default=0.03, help="fraction of requests that start a run")
    parser.add_argument("--broker", default="", help="e.g. redis://127.0.0.1:6379/9: queue work instead of inline")
    parser.add_argument("--cache", default="", help="REDIS_CACHE_URL for the server (shared throttle counters)")
    parser.add_argument("--max-requests", type=int, default=20000, help="stop earlier after this many requests")
    parser.add_argument("--upload-share", type=float, default=0.05, help="fraction of requests that are uploads")
    parser.add_argument("--db", choices=["sqlite", "postgres"], default="postgres")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn worker processes")
    parser.add_argument("--threads", type=int, default=4, help="threads per gunicorn worker")
    parser.add_argument("--datasets", type=int, default=5, help="seed datasets")
    parser.add_argument("--samples", type=int, default=200, help="samples per seed dataset")
    args = parser.parse_args(argv)
    if args.users < 1 or args.duration <= 0 or not 0 <= args.upload_share <= 1:
        parser.error("--users must be >= 1, --duration > 0 and --upload-share within 0..1")

    workdir = tempfile.mkdtemp(prefix="arena-load-")
    try:
        with throwaway_database(args.db, workdir) as database_url:
            env = server_env(database_url=database_url, workdir=workdir, broker=args.broker, cache=args.cache)
            print(f"preparing a throwaway {args.db} database in {workdir} ...", file=sys.stderr)
            seed = prepare(env, users=args.users, datasets=args.datasets, samples=args.samples)
            with running_server(
                env,
                port=args.port or free_port(),
                workers=args.workers,
                threads=args.threads,
                log_path=os.path.join(workdir, "server.log"),
            ) as base_url:
                print(
                    f"server at {base_url}; running {args.users} users for up to {args.duration:g} s ...",
                    file=sys.stderr,
                )
                results = Results()
                started = time.monotonic()
                threads = [
                    threading.Thread(
                        target=user_loop,
                        args=(n,),
                        kwargs=dict(
                            base_url=base_url,
                            token=seed["tokens"][n],
                            slugs=seed["slugs"],
                            results=results,
                            stop_at=started + args.duration,
                            max_requests=args.max_requests,
                            upload_share=args.upload_share,
                            scoring_share=args.scoring_share,
                        ),
                    )
                    for n in range(args.users)
                ]
                load_before = os.getloadavg()
                cpu_before = server_cpu_seconds()
                for thread in threads:
                    thread.start()
                for thread in threads:
                    thread.join()
                elapsed = time.monotonic() - started
                cpu_used = server_cpu_seconds() - cpu_before
            report(results, elapsed=elapsed, args=args)
            requests = max(results.count, 1)
            print(f"server CPU: {cpu_used:.1f} s for {results.count} requests = {cpu_used / requests * 1000:.0f} ms "
                  f"per request (all endpoints); {os.cpu_count()} cores at full use would serve about "
                  f"{os.cpu_count() / max(cpu_used / requests, 1e-9):.0f} requests/s")
            load_after = os.getloadavg()
            print(f"machine load average (1 min) before {load_before[0]:.1f}, after {load_after[0]:.1f} "
                  f"on {os.cpu_count()} CPUs: figures on a busy machine are slower than on a quiet one")
            if sum(results.errors.values()):
                print_server_errors(os.path.join(workdir, "server.log"))
            return 1 if sum(results.errors.values()) else 0
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
