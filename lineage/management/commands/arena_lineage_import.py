"""``manage.py arena_lineage_import PATH --user NAME``: declare lineage edges in bulk from a JSONL file."""
from __future__ import annotations

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from arena.errors import ArenaError
from lineage.services import edges_import_jsonl


class Command(BaseCommand):
    help = (
        "Declare lineage edges from a JSONL file of {target, source, relationship, confidence, evidence} objects. "
        "All lines are validated first; any error writes nothing."
    )

    def add_arguments(self, parser):
        parser.add_argument("path", help="JSONL file, one edge per line")
        parser.add_argument("--user", required=True, help="username declaring the edges (must own every target)")

    def handle(self, *args, path: str, user: str, **options):
        try:
            declarer = get_user_model().objects.get(username=user)
        except get_user_model().DoesNotExist:
            raise CommandError(f"no user {user!r}") from None
        try:
            with open(path, "rb") as handle:
                edges = edges_import_jsonl(user=declarer, upload=handle)
        except FileNotFoundError:
            raise CommandError(f"no such file: {path}") from None
        except ArenaError as exc:
            raise CommandError(exc.message) from None
        self.stdout.write(self.style.SUCCESS(f"declared {len(edges)} lineage edge(s) from {path}"))
