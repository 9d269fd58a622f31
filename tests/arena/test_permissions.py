"""The access rules of arena/permissions.py as a truth table, and the view rule's two forms (predicate and
queryset) agreeing for every kind of user and dataset."""
from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AnonymousUser

from arena import permissions as p
from arena.models import Dataset
from scoring.models import ScoringRun
from training.models import BaseModel, Job


@pytest.fixture
def world(db):
    users = get_user_model().objects
    owner = users.create_user("owner", password="pw-owner-123")
    other = users.create_user("other", password="pw-other-123")
    creator = users.create_user("creator", password="pw-creator-123")
    staff = users.create_user("staff", password="pw-staff-123", is_staff=True)
    public = Dataset.objects.create(name="Pub", slug="pub", owner=owner, visibility="public", status="ready")
    private = Dataset.objects.create(name="Priv", slug="priv", owner=owner, visibility="private", status="ready")
    return {"owner": owner, "other": other, "creator": creator, "staff": staff, "anonymous": AnonymousUser(),
            "none": None, "public": public, "private": private}


VIEW = {  # (user, dataset) -> may view
    ("owner", "public"): True, ("owner", "private"): True,
    ("other", "public"): True, ("other", "private"): False,
    ("staff", "public"): True, ("staff", "private"): True,
    ("anonymous", "public"): True, ("anonymous", "private"): False,
    ("none", "public"): True, ("none", "private"): False,
}


@pytest.mark.parametrize("who,which", sorted(VIEW))
def test_view_rule_and_queryset_agree(world, who, which):
    user, dataset = world[who], world[which]
    assert p.dataset_can_view(dataset=dataset, user=user) is VIEW[(who, which)]
    in_queryset = p.dataset_visible_queryset(viewer=user).filter(pk=dataset.pk).exists()
    assert in_queryset is VIEW[(who, which)]


@pytest.mark.parametrize("who", ["owner", "other", "staff", "anonymous", "none"])
def test_edit_score_train(world, who):
    user = world[who]
    for which in ("public", "private"):
        dataset = world[which]
        assert p.dataset_can_edit(dataset=dataset, user=user) is (who in ("owner", "staff"))
        logged_in_viewer = who not in ("anonymous", "none") and VIEW[(who, which)]
        assert p.dataset_can_score(dataset=dataset, user=user) is logged_in_viewer
        assert p.dataset_can_train(dataset=dataset, user=user) is logged_in_viewer
    assert p.worker_identity_can_view(user=user) is (who == "staff")


def test_owner_scope_is_public_plus_own(world):
    owner, other = world["owner"], world["other"]
    assert p.dataset_in_owner_scope(dataset=world["private"], owner_id=owner.pk)
    assert not p.dataset_in_owner_scope(dataset=world["private"], owner_id=other.pk)
    assert not p.dataset_in_owner_scope(dataset=world["private"], owner_id=None)
    assert p.dataset_in_owner_scope(dataset=world["public"], owner_id=None)


@pytest.mark.parametrize("which", ["public", "private"])
def test_runs_and_jobs_are_managed_by_creator_dataset_owner_and_staff(world, which):
    dataset = world[which]
    run = ScoringRun.objects.create(dataset=dataset, created_by=world["creator"], scorers=[])
    base = BaseModel.objects.create(name="b", slug="b", path="tiny:{}")
    job = Job.objects.create(dataset=dataset, base_model=base, created_by=world["creator"])
    reference = Job.objects.create(dataset=None, base_model=base, created_by=world["creator"])
    for who in ("creator", "owner", "staff", "other", "anonymous", "none"):
        allowed = who in ("creator", "owner", "staff")
        assert p.run_can_manage(run=run, user=world[who]) is allowed, who
        assert p.job_can_control(job=job, user=world[who]) is allowed, who
        # weights of a model trained on a private dataset: staff only (base models are public)
        publish = allowed and (which == "public" or who == "staff")
        assert p.job_can_publish_weights(job=job, user=world[who]) is publish, who
    assert p.job_can_control(job=reference, user=world["owner"]) is False  # no dataset: creator or staff
    assert p.job_can_control(job=reference, user=world["creator"]) is True
