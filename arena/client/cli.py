"""The ``arena`` command: log in, upload, list, score, train, rank, trace and export datasets.

Exit codes: 0 success, 1 a server or user error (one line on stderr), 2 bad usage.
Data goes to stdout (tables, JSON, CSV); progress bars and messages go to stderr.
Nothing reads stdin unless it is a terminal, so the command runs unattended in CI.
"""

from __future__ import annotations

import argparse
import getpass
import json
import os
import sys
from collections.abc import Callable

from arena.client.api import ArenaClient
from arena.client.config import credentials_load, credentials_save
from arena.client.errors import ArenaClientError
from arena.client.tables import print_table, repair_summary

# The server's sample formats (arena/ingest/sample_formats/), restated: the client imports nothing of the server.
# tests/arena/test_registries.py checks the two agree.
EXPORT_FORMATS = ("alpaca", "sharegpt", "messages")
LEADERBOARD_COLUMNS = [
    "rank",
    "dataset",
    "score",
    "ci_low",
    "ci_high",
    "delta",
    "delta_ci_low",
    "delta_ci_high",
    "n_seeds",
    "coverage",
    "sample_count",
]


def _seeds(text: str) -> list[int]:
    try:
        seeds = [int(part) for part in text.split(",") if part.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"seeds must be comma-separated integers, e.g. 0,1,2 (got {text!r})") from None
    if not seeds:
        raise argparse.ArgumentTypeError("give at least one seed, e.g. --seeds 0,1,2")
    return seeds


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"expected a number >= 0, got {value}")
    return value


def _scorer_config(text: str) -> tuple[str, dict]:
    name, sep, raw = text.partition("=")
    if not sep or not name:
        raise argparse.ArgumentTypeError(f"expected NAME=JSON, e.g. ifd='{{\"batch_size\": 8}}' (got {text!r})")
    try:
        config = json.loads(raw)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"the config of scorer {name!r} is not valid JSON: {exc}") from None
    if not isinstance(config, dict):
        raise argparse.ArgumentTypeError(f"the config of scorer {name!r} must be a JSON object")
    return name, config


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="arena", description="Arena: measure the value of post-training datasets.")
    parser.add_argument("--no-progress", action="store_true", help="never draw progress bars")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    login = commands.add_parser("login", help="get an API token and save it in ~/.config/arena/config.json")
    login.add_argument("--url", required=True, help="Arena server, e.g. http://127.0.0.1:8000")
    login.add_argument("--username", required=True)
    login.add_argument("--password", help="default: $ARENA_PASSWORD, else asked on the terminal")

    upload = commands.add_parser("upload", help="upload a dataset file (JSONL, JSON, CSV, Parquet; .gz/.zst)")
    upload.add_argument("file")
    upload.add_argument("--name", required=True)
    upload.add_argument("--private", action="store_true", help="visible to you only")
    upload.add_argument("--domain", action="append", default=[], help="domain tag (repeatable)")
    upload.add_argument("--parent", action="append", default=[], help="slug of a parent dataset (repeatable)")
    upload.add_argument("--license", default="")
    upload.add_argument("--description", default="")
    upload.add_argument("--source-url", default="")
    upload.add_argument("--file-format", choices=["jsonl", "json", "csv", "parquet"], default="")
    upload.add_argument("--sample-format", choices=EXPORT_FORMATS, default="")
    upload.add_argument(
        "--policy",
        choices=["repair", "strict"],
        default="",
        help="repair (server default): repair broken records by the documented rules and skip the rest, "
        "listed in a rejects file; strict: refuse the file at the first broken record",
    )
    upload.add_argument("--wait", action="store_true", help="wait until the ingest is over")
    upload.add_argument("--json", action="store_true", help="print the dataset record as JSON")

    rejects = commands.add_parser("rejects", help="download the records an ingest skipped (gzipped JSONL)")
    rejects.add_argument("slug")
    rejects.add_argument("-o", "--output", required=True, help="file to write (.jsonl.gz)")

    datasets = commands.add_parser("datasets", help="list the datasets you can see")
    datasets.add_argument("--search", default="")
    datasets.add_argument("--domain", default="")
    datasets.add_argument("--json", action="store_true")

    score = commands.add_parser("score", help="start a scoring run")
    score.add_argument("slug")
    score.add_argument("--scorer", action="append", required=True, help="scorer name (repeatable)")
    score.add_argument("--config", action="append", default=[], type=_scorer_config, metavar="NAME=JSON")
    score.add_argument("--wait", action="store_true", help="poll until the run is over")
    score.add_argument("--json", action="store_true")

    train = commands.add_parser("train", help="launch fine-tune + evaluation jobs")
    train.add_argument("slug")
    train.add_argument("--base-model", action="append", required=True, help="base model slug (repeatable)")
    train.add_argument("--seeds", type=_seeds, default=[0], help="comma-separated seeds, e.g. 0,1,2")
    train.add_argument("--recipe", required=True)
    train.add_argument("--benchmark", action="append", required=True, help="benchmark slug (repeatable)")
    train.add_argument("--wait", action="store_true", help="poll until every job is over")
    train.add_argument("--json", action="store_true")

    board = commands.add_parser("leaderboard", help="rank datasets for one base model")
    board.add_argument("--base-model", required=True)
    board.add_argument("--domain", default="")
    shape = board.add_mutually_exclusive_group()
    shape.add_argument("--json", action="store_true")
    shape.add_argument("--csv", action="store_true")

    lineage = commands.add_parser("lineage", help="print a dataset's lineage graph as JSON")
    lineage.add_argument("slug")
    lineage.add_argument("--depth", type=_positive, default=2)

    export = commands.add_parser("export", help="download a dataset as JSONL for training")
    export.add_argument("slug")
    export.add_argument("--format", choices=EXPORT_FORMATS, required=True, dest="export_format")
    export.add_argument("-o", "--output", required=True, help="JSONL file to write")
    export.add_argument("--dataset-info", help="dataset_info.json to create or add this dataset's entry to")
    return parser


def _client(args) -> ArenaClient:
    credentials = credentials_load()
    return ArenaClient(credentials.url, credentials.token or None)


def _progress(args) -> bool:
    return not args.no_progress and sys.stderr.isatty()


def _print_json(data) -> None:
    json.dump(data, sys.stdout, indent=2, ensure_ascii=False)
    sys.stdout.write("\n")


def cmd_login(args) -> None:
    password = args.password or os.environ.get("ARENA_PASSWORD")
    if not password:
        if not sys.stdin or not sys.stdin.isatty():
            raise ArenaClientError("no password given: use --password or set ARENA_PASSWORD (stdin is not a terminal)")
        password = getpass.getpass(f"Arena password for {args.username}: ")
    with ArenaClient(args.url) as client:
        token = client.login(username=args.username, password=password)
    path = credentials_save(url=client.base_url, token=token)
    print(f"logged in to {client.base_url} as {args.username}; token saved in {path}", file=sys.stderr)


def cmd_upload(args) -> None:
    with _client(args) as client:
        dataset = client.upload(
            args.file,
            name=args.name,
            visibility="private" if args.private else "public",
            domains=args.domain,
            parents=args.parent,
            license=args.license,
            description=args.description,
            source_url=args.source_url,
            file_format=args.file_format,
            sample_format=args.sample_format,
            policy=args.policy,
            progress=_progress(args),
        )
        if args.wait:
            dataset = client.wait_dataset(dataset["slug"], progress=_progress(args))
    if dataset.get("status") == "failed":
        raise ArenaClientError(
            f"dataset {dataset['slug']} failed to ingest: {dataset.get('error') or 'no reason given'}"
        )
    if args.json:
        _print_json(dataset)
    else:
        count = dataset.get("sample_count")
        samples = f", {count:,} samples" if isinstance(count, int) else ""
        print(f"{dataset['slug']}\t{dataset['status']}{samples}")
        report = dataset.get("ingest_report") or {}
        if report.get("repaired") or report.get("rejected"):
            hint = f"; download them with: arena rejects {dataset['slug']} -o rejects.jsonl.gz" if report["rejected"] else ""
            print(repair_summary(report) + hint, file=sys.stderr)


def cmd_rejects(args) -> None:
    with _client(args) as client:
        size = client.download_rejects(args.slug, out_path=args.output, progress=_progress(args))
    print(f"wrote {args.output} ({size:,} bytes, gzipped JSONL: line, rule, problem, record)", file=sys.stderr)


def cmd_datasets(args) -> None:
    with _client(args) as client:
        rows = client.datasets(search=args.search, domain=args.domain)
    if args.json:
        _print_json(rows)
        return
    columns = ["slug", "name", "owner", "visibility", "status", "sample_count", "sample_format", "domains"]
    print_table(rows, columns=columns, title=f"{len(rows)} datasets")


def cmd_score(args) -> None:
    configs = dict(args.config)
    unknown = sorted(set(configs) - set(args.scorer))
    if unknown:
        raise ArenaClientError(f"--config given for scorer(s) not requested with --scorer: {', '.join(unknown)}")
    scorers = [{"name": name, "config": configs.get(name, {})} for name in dict.fromkeys(args.scorer)]
    with _client(args) as client:
        run = client.start_scoring(args.slug, scorers=scorers)
        if args.wait:
            run = client.wait_scoring_run(run["id"], progress=_progress(args))
    if args.json:
        _print_json(run)
    else:
        print(f"scoring run {run.get('id')}\t{run.get('status', '')}")


def _job_list(body) -> list[dict]:
    if isinstance(body, list):
        return body
    if isinstance(body, dict):
        for key in ("jobs", "results"):
            if isinstance(body.get(key), list):
                return body[key]
    raise ArenaClientError("the server's answer to POST /api/v1/jobs/batch/ holds no job list")


def cmd_train(args) -> None:
    with _client(args) as client:
        body = client.launch_jobs(
            dataset=args.slug,
            base_models=args.base_model,
            seeds=args.seeds,
            recipe=args.recipe,
            benchmarks=args.benchmark,
        )
        jobs = _job_list(body)
        if args.wait:
            jobs = [client.wait_job(job["id"], progress=_progress(args)) for job in jobs]
    if args.json:
        _print_json(jobs)
    else:
        for job in jobs:
            print(f"job {job.get('id')}\t{job.get('status', '')}")


def cmd_leaderboard(args) -> None:
    with _client(args) as client:
        if args.csv:
            sys.stdout.write(client.leaderboard_csv(base_model=args.base_model, domain=args.domain))
            return
        board = client.leaderboard(base_model=args.base_model, domain=args.domain)
    if args.json:
        _print_json(board)
        return
    rows = board if isinstance(board, list) else board.get("rows", board.get("results", []))
    title = f"leaderboard: {args.base_model} / {args.domain or 'overall'} ({len(rows)} datasets)"
    present = [c for c in LEADERBOARD_COLUMNS if rows and c in rows[0]]
    print_table(rows, columns=present or None, title=title)


def cmd_lineage(args) -> None:
    with _client(args) as client:
        _print_json(client.lineage_export(args.slug, depth=args.depth))


def dataset_info_name(existing: dict, *, slug: str, export_format: str, file_name: str) -> str:
    """The entry name for an export in a dataset_info.json: the slug, unless an entry of that name describes
    another file; then ``<slug>-<format>`` (then ``-2``, ``-3`` ...). The same file keeps its entry."""
    candidates = [slug, f"{slug}-{export_format}"]
    candidates += (f"{slug}-{export_format}-{n}" for n in range(2, 10_000))
    for name in candidates:
        current = existing.get(name)
        if current is None or (isinstance(current, dict) and current.get("file_name") == file_name):
            return name
    raise ArenaClientError(f"too many entries for {slug} in the dataset_info file")


def cmd_export(args) -> None:
    info_path = args.dataset_info
    existing: dict = {}
    if info_path and os.path.exists(info_path):  # check before downloading: fail fast
        try:
            with open(info_path) as handle:
                existing = json.load(handle)
        except (OSError, ValueError) as exc:
            raise ArenaClientError(f"cannot read {info_path}: {exc}") from None
        if not isinstance(existing, dict):
            raise ArenaClientError(f"{info_path} is not a JSON object (a LLaMA-Factory dataset_info.json)")
    with _client(args) as client:
        records = client.export_dataset(
            args.slug, export_format=args.export_format, out_path=args.output, progress=_progress(args)
        )
        if info_path:
            file_name = os.path.relpath(os.path.abspath(args.output), os.path.dirname(os.path.abspath(info_path)))
            entry = client.dataset_info(
                args.slug, export_format=args.export_format, file_name=os.path.basename(file_name)
            )
            (value,) = entry.values()
            if os.path.dirname(file_name):  # LLaMA-Factory resolves file_name relative to the dataset_info.json dir
                value["file_name"] = file_name
            name = dataset_info_name(existing, slug=args.slug, export_format=args.export_format, file_name=file_name)
            existing[name] = value  # entries accumulate: another format or file gets its own name
            print(f"dataset_info entry {name!r} in {info_path}", file=sys.stderr)
            partial = info_path + ".part"
            with open(partial, "w") as handle:
                json.dump(existing, handle, indent=2, ensure_ascii=False)
                handle.write("\n")
            os.replace(partial, info_path)
    print(f"wrote {records:,} {args.export_format} records to {args.output}", file=sys.stderr)


COMMANDS: dict[str, Callable] = {
    "login": cmd_login,
    "upload": cmd_upload,
    "datasets": cmd_datasets,
    "score": cmd_score,
    "train": cmd_train,
    "leaderboard": cmd_leaderboard,
    "lineage": cmd_lineage,
    "export": cmd_export,
    "rejects": cmd_rejects,
}


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)  # exits with 2 on bad usage
    try:
        COMMANDS[args.command](args)
    except ArenaClientError as exc:
        print(f"arena: error: {exc.message}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("arena: interrupted", file=sys.stderr)
        return 1
    except BrokenPipeError:  # e.g. `arena datasets --json | head`
        return 0
    except OSError as exc:
        print(f"arena: error: {exc.strerror or exc}: {exc.filename or ''}".rstrip(": "), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
