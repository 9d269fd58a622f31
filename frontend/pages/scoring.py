"""Server-rendered scoring pages: the run list (with progress, auto-refreshing while runs are active),
the start form, and a run's detail with its chunks and aggregates."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from arena.errors import ArenaError, NotFound
from arena.models import Dataset
from arena.permissions import run_can_manage
from arena.selectors import dataset_get, dataset_list
from frontend.forms import RunStartForm
from scoring import selectors, services
from scoring.models import ScoringRun


def _start_form(request, data=None) -> RunStartForm:
    datasets = dataset_list(viewer=request.user, status=Dataset.Status.READY).order_by("name")[:500]
    return RunStartForm(data, datasets=datasets, scorers=selectors.scorer_catalog())


def scoring_runs_page(request):
    runs = selectors.scoring_run_list(viewer=request.user)
    page = Paginator(runs, 30).get_page(request.GET.get("page"))
    active = any(run.status in ScoringRun.ACTIVE for run in page)
    form = _start_form(request) if request.user.is_authenticated else None
    return render(request, "scoring/run_list.html", {"page": page, "active": active, "form": form})


@login_required
@require_POST
def scoring_run_start_page(request):
    form = _start_form(request, request.POST)
    if form.is_valid():
        try:
            dataset = dataset_get(viewer=request.user, slug=form.cleaned_data["dataset"])
            run = services.scoring_run_start(dataset=dataset, scorers=form.scorer_specs(), user=request.user)
        except ArenaError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, f"Scoring run {run.pk} started on {dataset.slug}.")
            return redirect("scoring-runs")
    else:
        for field, errors in form.errors.items():
            for error in errors:
                messages.error(request, f"{field}: {error}" if field != "__all__" else error)
    return redirect("scoring-runs")


def scoring_run_detail_page(request, run_id: int):
    try:
        run = selectors.scoring_run_get(viewer=request.user, run_id=run_id)
    except NotFound:
        raise Http404("no such scoring run") from None
    return render(
        request,
        "scoring/run_detail.html",
        {
            "run": run,
            "active": run.status in ScoringRun.ACTIVE,
            "counts": selectors.scoring_run_chunk_counts(run=run),
            "chunks": run.chunks.all()[:200],
            "aggregates": run.aggregates.all(),
            "can_manage": run_can_manage(run=run, user=request.user),
        },
    )


@login_required
@require_POST
def scoring_run_resume_page(request, run_id: int):
    try:
        run = selectors.scoring_run_get(viewer=request.user, run_id=run_id)
        services.scoring_run_resume(run=run, user=request.user)
    except NotFound:
        raise Http404("no such scoring run") from None
    except ArenaError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, f"Scoring run {run_id} resumed.")
    return redirect("scoring-run-detail", run_id=run_id)
