"""One domain vocabulary (``arena.domains``): every list of domains in Arena derives from it."""

from __future__ import annotations

import io

import pytest

from arena.domains import BENCHMARK_DOMAINS, DEFAULT_DOMAINS, DOMAINS, domain_colour
from arena.errors import InvalidInput


def test_benchmarks_the_leaderboard_and_kinds_use_the_benchmark_domains():
    from training.evaluation.kinds.base import kind_names, kind_get
    from training.leaderboard.compute import DOMAINS as BOARD_DOMAINS
    from training.models import Benchmark

    assert [value for value, _ in Benchmark._meta.get_field("domain").choices] == list(BENCHMARK_DOMAINS)
    assert BOARD_DOMAINS == BENCHMARK_DOMAINS
    assert {kind_get(name).domain for name in kind_names()} <= set(BENCHMARK_DOMAINS)
    assert set(BENCHMARK_DOMAINS) <= set(DEFAULT_DOMAINS)  # a benchmark's domain is also a dataset tag


def test_the_ui_has_a_colour_for_every_domain_and_a_neutral_one_for_user_tags():
    from frontend.dash_apps.genealogy import DOMAIN_COLOURS

    assert set(DOMAIN_COLOURS) == {d.name for d in DOMAINS}
    assert len({d.colour for d in DOMAINS}) == len(DOMAINS)
    assert domain_colour("my-own-tag") not in {d.colour for d in DOMAINS}


@pytest.mark.django_db
def test_forms_and_the_registry_accept_every_domain_and_refuse_unknown_ones():
    from arena.services import domains_resolve
    from frontend.forms import UploadForm

    form_choices = {value for value, _ in UploadForm().fields["domains"].choices}
    assert set(DEFAULT_DOMAINS) <= form_choices
    assert {d.name for d in domains_resolve(names=list(DEFAULT_DOMAINS))} == set(DEFAULT_DOMAINS)
    with pytest.raises(InvalidInput):
        domains_resolve(names=["no-such-domain"])


@pytest.mark.django_db
def test_benchmark_creation_refuses_a_domain_outside_the_vocabulary():
    from training.benchmark_services import benchmark_create

    with pytest.raises(InvalidInput, match="unknown domain"):
        benchmark_create(name="b", domain="science", kind="gsm8k", upload=io.BytesIO(b"{}"), filename="x.jsonl")
