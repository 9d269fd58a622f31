"""Register a dataset from a file: ``manage.py arena_import data.jsonl --name "My set" --domain math``."""
from __future__ import annotations

import os

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from arena import selectors, services
from arena.client.tables import repair_summary
from arena.errors import ArenaError
from arena.ingest.formats import SAMPLE_FORMATS
from arena.ingest.repair import DEFAULT_POLICY, POLICIES
from arena.models import Dataset

SERVICE_ACCOUNT = "arena"


def owner_for(username: str | None):
    """The named user, or Arena's service account (created on first use) when none is named."""
    User = get_user_model()
    if username:
        try:
            return User.objects.get(username=username)
        except User.DoesNotExist:
            raise CommandError(f"no user {username!r}: create it first (manage.py createsuperuser) or omit --owner") from None
    user, created = User.objects.get_or_create(username=SERVICE_ACCOUNT)
    if created:
        user.set_unusable_password()
        user.save()
    return user


class Command(BaseCommand):
    help = "Register and ingest a dataset file (JSONL, JSON, Parquet or CSV; optionally .gz/.zst)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("path")
        parser.add_argument("--name", help="dataset name (default: the file name)")
        parser.add_argument("--owner", help=f"username of the owner (default: service account '{SERVICE_ACCOUNT}')")
        parser.add_argument("--private", action="store_true", help="visible to the owner only")
        parser.add_argument("--domain", action="append", default=[], help="domain tag; repeatable")
        parser.add_argument("--license", default="")
        parser.add_argument("--description", default="")
        parser.add_argument("--source-url", default="")
        parser.add_argument("--file-format", choices=["jsonl", "json", "parquet", "csv"])
        parser.add_argument("--sample-format", choices=SAMPLE_FORMATS)
        parser.add_argument(
            "--parent", action="append", default=[], metavar="SLUG[:RELATION]", help="declared parent; repeatable"
        )
        parser.add_argument(
            "--policy",
            choices=POLICIES,
            default=DEFAULT_POLICY,
            help="repair (default): repair broken records by the documented rules and skip the rest, "
            "listing them in a rejects file; strict: refuse the file at the first broken record",
        )
        parser.add_argument("--quiet", action="store_true", help="no progress bar")

    def handle(self, *args, **options) -> str:
        path = options["path"]
        if not os.path.isfile(path):
            raise CommandError(f"no such file: {path}")
        owner = owner_for(options["owner"])
        parents = []
        for item in options["parent"]:
            slug, _, relation = item.partition(":")
            try:
                parent = selectors.dataset_get(viewer=owner, slug=slug)
            except ArenaError as exc:
                raise CommandError(f"parent {slug!r}: {exc.message}") from None
            parents.append(services.ParentSpec(dataset=parent, relation=relation or "subset"))

        bar = tqdm(total=100, unit="%", desc=os.path.basename(path), disable=options["quiet"], leave=False)

        def progress(fraction: float, samples: int) -> None:
            bar.n = round(fraction * 100)
            bar.set_postfix(samples=samples, refresh=False)
            bar.refresh()

        try:
            with open(path, "rb") as handle:
                dataset = services.dataset_register(
                    owner=owner,
                    upload=handle,
                    filename=os.path.basename(path),
                    name=options["name"] or os.path.basename(path),
                    visibility=Dataset.Visibility.PRIVATE if options["private"] else Dataset.Visibility.PUBLIC,
                    domains=options["domain"],
                    license=options["license"],
                    description=options["description"],
                    source_url=options["source_url"],
                    parents=parents,
                    file_format=options["file_format"],
                    sample_format=options["sample_format"],
                    policy=options["policy"],
                    ingest_now=True,
                    progress=progress,
                )
        except ArenaError as exc:
            raise CommandError(exc.message) from None
        finally:
            bar.close()
        if dataset.status != Dataset.Status.READY:
            error = dataset.error
            services.dataset_delete(dataset=dataset, user=owner)  # a script's failed import leaves nothing behind
            raise CommandError(f"ingest failed: {error}")
        self.stdout.write(
            f"registered {dataset.slug}: {dataset.sample_count} samples ({dataset.sample_format}, {dataset.file_format})"
        )
        report = dataset.ingest_report
        if report.get("repaired") or report.get("rejected"):
            self.stdout.write(
                f"{report['policy']} policy: {repair_summary(report)}; rejects file: {dataset.rejects_file or '-'}"
            )
        return ""
