"""The one answer to "may this user see / change this?". Every service, selector, API view, page and Dash
callback that decides access asks here; nothing else compares owners, visibility or staff flags.

The rules:

- a dataset is **visible** (``dataset_can_view``) when it is public, or to its owner, or to staff. A private
  dataset of someone else is indistinguishable from a missing one (callers raise NotFound, never Forbidden);
- a dataset is **editable** (``dataset_can_edit``: change its metadata, delete it, declare its parents or
  release date) by its owner and by staff;
- a dataset may be **scored** / **trained on** (``dataset_can_score`` / ``dataset_can_train``) by any logged-in
  user who can see it;
- a scoring run is **managed** (resume, cancel: ``run_can_manage``) by its creator, the dataset's owner, staff;
- a job is **controlled** (cancel, retry, publish its weights: ``job_can_control``) by its creator, the dataset's
  owner, staff; its weights become a public base model only if its dataset is public, or by staff
  (``job_can_publish_weights``);
- which worker holds a piece of work names internal hosts: staff only (``worker_identity_can_view``).

``dataset_visible_queryset`` is ``dataset_can_view`` as a queryset; ``arena.selectors`` re-exports it.
``user`` may be None or an anonymous user everywhere: both may only see public datasets.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.db.models import Q, QuerySet

from arena.models import Dataset

if TYPE_CHECKING:  # the models of the apps above arena: types only, arena imports none of them
    from scoring.models import ScoringRun
    from training.models import Job


def _authenticated(user: Any) -> bool:
    return user is not None and bool(user.is_authenticated)


def _staff(user: Any) -> bool:
    return _authenticated(user) and bool(user.is_staff)


def _owns(*, dataset: Dataset, user: Any) -> bool:
    return _authenticated(user) and dataset.owner_id == user.pk


# --- datasets -------------------------------------------------------------------------------------------------

def dataset_visible_queryset(*, viewer: Any) -> QuerySet[Dataset]:
    """Public datasets, plus the viewer's own private ones (staff see everything)."""
    qs = Dataset.objects.all()
    if not _authenticated(viewer):
        return qs.filter(visibility=Dataset.Visibility.PUBLIC)
    if _staff(viewer):
        return qs
    return qs.filter(Q(visibility=Dataset.Visibility.PUBLIC) | Q(owner=viewer))


def dataset_can_view(*, dataset: Dataset, user: Any) -> bool:
    return dataset.is_public or _owns(dataset=dataset, user=user) or _staff(user)


def dataset_in_owner_scope(*, dataset: Dataset, owner_id: int | None) -> bool:
    """What the (non-staff) user ``owner_id`` sees, by id: the public datasets and their own. Lineage inference
    computes one edge set per such scope; ``owner_id=None`` is the public scope."""
    return dataset.is_public or (owner_id is not None and dataset.owner_id == owner_id)


def dataset_can_edit(*, dataset: Dataset, user: Any) -> bool:
    return _owns(dataset=dataset, user=user) or _staff(user)


def dataset_can_score(*, dataset: Dataset, user: Any) -> bool:
    return _authenticated(user) and dataset_can_view(dataset=dataset, user=user)


def dataset_can_train(*, dataset: Dataset, user: Any) -> bool:
    return _authenticated(user) and dataset_can_view(dataset=dataset, user=user)


# --- work on datasets -----------------------------------------------------------------------------------------

def run_can_manage(*, run: ScoringRun, user: Any) -> bool:
    """Resume or cancel a scoring run."""
    return _authenticated(user) and (_staff(user) or user.pk in (run.created_by_id, run.dataset.owner_id))


def job_can_control(*, job: Job, user: Any) -> bool:
    """Cancel or retry a job, or register its weights as a base model."""
    if not _authenticated(user):
        return False
    if _staff(user) or job.created_by_id == user.pk:
        return True
    return job.dataset is not None and job.dataset.owner_id == user.pk


def job_can_publish_weights(*, job: Job, user: Any) -> bool:
    """Base models are visible to everyone: weights trained on a dataset that is not public are staff's call."""
    return job_can_control(job=job, user=user) and (
        job.dataset is None or job.dataset.is_public or _staff(user)
    )


def worker_identity_can_view(*, user: Any) -> bool:
    return _staff(user)
