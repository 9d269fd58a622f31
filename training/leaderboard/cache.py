"""Computed leaderboards in the shared cache, one entry per base model, invalidated only by its own results.

* **Where.** The default cache (``REDIS_CACHE_URL`` in production: one copy for every gunicorn worker and
  machine; a per-process cache in the demo and the tests). Each process also keeps the boards it used last
  (``_memo``) so a warm request does not unpickle a board.
* **Key.** ``arena:leaderboard:v2:<base model id>:<stamp>``. The stamp of a base model is
  (count, max id, sum of ids, newest ``finished_at``) of *its* succeeded jobs -- one index-only scan of the
  ``(base_model, status)`` index -- plus *its* version counter in the cache, which the ``EvalResult``
  signals bump after commit when a result of one of its jobs is saved or deleted outside the engine's
  bulk write. A job that succeeds (the engine writes its results and the status in one transaction), is
  re-run, fails, is cancelled or deleted changes the stamp of its own base model only.
* **After a change.** The newest board of the base model (``...:<base model id>:latest``) is updated with
  ``compute.board_update``: only the datasets whose jobs changed are read again and bootstrapped, so a board
  after a new result costs a job-list scan, one small query and one dataset's bootstrap. Concurrent workers
  may compute the same board twice; both write the same value.
* **Not covered.** A score edited in place with ``QuerySet.update()`` (results are written once by the
  training engine; the admin saves one object and sends the signal).
"""
from __future__ import annotations

import time
from typing import TYPE_CHECKING

from django.core.cache import cache
from django.db import transaction
from django.db.models import Count, Max, Sum

from training.models import BaseModel, Job

if TYPE_CHECKING:  # compute imports numpy/scipy: not needed to connect the signals at start-up
    from training.leaderboard.compute import Board

CACHE_PREFIX = "arena:leaderboard:v2"
CACHE_SECONDS = 24 * 3600
_MEMO_SIZE = 16
_memo: dict[str, Board] = {}  # this process's boards by cache key: skips unpickling on every request


def _version_key(base_model_id: int) -> str:
    return f"{CACHE_PREFIX}:{base_model_id}:version"


def _latest_key(base_model_id: int) -> str:
    return f"{CACHE_PREFIX}:{base_model_id}:latest"


def board_version(*, base_model_id: int) -> int:
    """The base model's result version in the cache. Starts at a clock value (not 0) so that a cache that lost
    the counter never hands out a number an older board was stored under."""
    key = _version_key(base_model_id)
    version = cache.get(key)
    if version is None:
        cache.add(key, time.time_ns(), None)
        version = cache.get(key)
    return int(version)


def board_invalidate(*, base_model_id: int) -> None:
    """Make the next read of this base model's board recompute it (other base models keep theirs)."""
    key = _version_key(base_model_id)
    try:
        cache.incr(key)
    except ValueError:  # not in the cache: any new value differs from every earlier one
        cache.set(key, time.time_ns(), None)


def board_stamp(*, base_model: BaseModel) -> tuple:
    """The version stamp of one base model's board (see the module docstring)."""
    agg = Job.objects.filter(base_model_id=base_model.pk, status=Job.Status.SUCCEEDED).order_by().aggregate(
        n=Count("id"), last=Max("id"), total=Sum("id"), finished=Max("finished_at")
    )
    finished = agg["finished"].timestamp() if agg["finished"] else 0
    return (agg["n"], agg["last"], agg["total"], finished, board_version(base_model_id=base_model.pk))


def _remember(key: str, board: Board) -> None:
    while len(_memo) >= _MEMO_SIZE:  # drop the oldest; tolerate another thread dropping it first
        _memo.pop(next(iter(_memo), None), None)
    _memo[key] = board


def board_get(*, base_model: BaseModel) -> Board:
    """The computed board of ``base_model``: from this process, then the shared cache, then computed (from the
    base model's previous board when there is one)."""
    from training.leaderboard.compute import board_compute, board_update

    stamp = board_stamp(base_model=base_model)
    key = f"{CACHE_PREFIX}:{base_model.pk}:{':'.join(str(s) for s in stamp)}"
    board = _memo.get(key)
    if board is not None and cache.get(f"{key}:alive"):
        return board
    board = cache.get(key)
    if board is None:
        previous = _previous_board(base_model_id=base_model.pk)
        # a version bump (a result changed under an unchanged job) needs the full computation
        if previous is not None and previous.stamp[-1:] == stamp[-1:]:
            board = board_update(previous=previous, base_model=base_model, stamp=stamp)
        else:
            board = board_compute(base_model=base_model, stamp=stamp)
        cache.set(key, board, CACHE_SECONDS)
        cache.set(_latest_key(base_model.pk), key, CACHE_SECONDS)
    cache.set(f"{key}:alive", True, CACHE_SECONDS)
    _remember(key, board)
    return board


def _previous_board(*, base_model_id: int) -> Board | None:
    latest = cache.get(_latest_key(base_model_id))
    if latest is None:
        return None
    board = _memo.get(latest)
    return board if board is not None else cache.get(latest)


def _on_result_change(sender, instance, **kwargs) -> None:
    """``EvalResult`` saved or deleted one at a time (the engine's bulk write is covered by the job stamp)."""
    job = instance._state.fields_cache.get("job")  # loaded already (e.g. EvalResult(job=job)): no query
    if job is not None and job.pk == instance.job_id:
        base_model_id = job.base_model_id
    else:
        base_model_id = Job.objects.filter(pk=instance.job_id).values_list("base_model_id", flat=True).first()
    if base_model_id is not None:
        # now (this transaction's own reads) and after commit (a board computed by another process meanwhile
        # from the data before the commit)
        board_invalidate(base_model_id=base_model_id)
        transaction.on_commit(lambda: board_invalidate(base_model_id=base_model_id))


def connect_signals() -> None:
    from django.db.models.signals import post_delete, post_save

    from training.models import EvalResult

    post_save.connect(_on_result_change, sender=EvalResult, dispatch_uid="leaderboard-result-saved")
    post_delete.connect(_on_result_change, sender=EvalResult, dispatch_uid="leaderboard-result-deleted")
