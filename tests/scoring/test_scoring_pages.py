"""The scoring page: list with progress, auto-refresh while active, start form (login + CSRF)."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from scoring.models import ScoringRun


@pytest.mark.django_db
def test_list_page_shows_runs_and_refreshes_while_active(client, user, make_dataset):
    dataset = make_dataset(owner=user, n=4)
    ScoringRun.objects.create(
        dataset=dataset, created_by=user, scorers=[{"name": "mtld"}], status="running", progress=0.5, rows_total=4
    )
    html = client.get(reverse("scoring-runs")).content.decode()
    assert '<meta http-equiv="refresh"' in html and '<progress max="1" value="0.5"' in html
    assert "mtld" in html and "Log in</a> to start" in html
    ScoringRun.objects.update(status="succeeded", progress=1.0)
    assert '<meta http-equiv="refresh"' not in client.get(reverse("scoring-runs")).content.decode()


@pytest.mark.django_db
def test_start_form_starts_a_run(user, make_dataset):
    dataset = make_dataset(owner=user, n=5)
    client = Client()
    client.force_login(user)
    page = client.get(reverse("scoring-runs")).content.decode()
    assert 'name="scorers"' in page and dataset.slug in page
    response = client.post(
        reverse("scoring-run-start"),
        {
            "dataset": dataset.slug,
            "scorers": ["mtld", "unique_ngram_ratio"],
            "options": '{"unique_ngram_ratio": {"n": 3}}',
        },
        follow=True,
    )
    run = ScoringRun.objects.get()
    assert run.status == "succeeded" and run.scorers[1]["config"] == {"n": 3}
    assert f"Scoring run {run.pk} started" in response.content.decode()
    detail = client.get(reverse("scoring-run-detail", args=[run.pk])).content.decode()
    assert "Aggregates" in detail and run.scorers[0]["config_hash"] in detail

    bad = client.post(
        reverse("scoring-run-start"),
        {"dataset": dataset.slug, "scorers": ["mtld"], "options": '{"mtld": {"x": 1}}'},
        follow=True,
    )
    assert "does not accept option(s) x" in bad.content.decode()
    assert ScoringRun.objects.count() == 1


@pytest.mark.django_db
def test_start_needs_login_and_csrf(user, make_dataset):
    dataset = make_dataset(owner=user, n=3)
    anonymous = Client().post(reverse("scoring-run-start"), {"dataset": dataset.slug, "scorers": ["mtld"]})
    assert anonymous.status_code == 302 and "/accounts/login/" in anonymous["Location"]
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(user)
    assert strict.post(reverse("scoring-run-start"), {"dataset": dataset.slug, "scorers": ["mtld"]}).status_code == 403
    assert not ScoringRun.objects.exists()
