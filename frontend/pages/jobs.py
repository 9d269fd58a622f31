"""Server-rendered job pages: list with launch form, detail with live progress, cancel and retry."""
from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from arena.errors import ArenaError, NotFound
from arena.permissions import job_can_control
from frontend.forms import JobLaunchForm
from training import selectors, services
from training.models import Job

RUNNING = (Job.Status.QUEUED, Job.Status.RUNNING)


def job_list_page(request):
    try:
        qs = selectors.job_list(viewer=request.user, status=request.GET.get("status", ""),
                                dataset=request.GET.get("dataset", ""), batch=request.GET.get("batch", ""))
    except ArenaError as exc:
        messages.error(request, exc.message)
        qs = selectors.job_list(viewer=request.user)
    page = Paginator(qs.prefetch_related("results"), 50).get_page(request.GET.get("page"))
    form = JobLaunchForm(viewer=request.user) if request.user.is_authenticated else None
    return render(request, "training/job_list.html", {
        "page": page, "form": form, "statuses": Job.Status.values, "status": request.GET.get("status", ""),
        "refresh": any(job.status in RUNNING for job in page),
    })


@login_required
def job_launch_page(request):
    form = JobLaunchForm(request.POST or None, viewer=request.user)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            jobs = services.jobs_launch_batch(
                dataset=data["dataset"], base_models=list(data["base_models"]), seeds=data["seeds"],
                recipe=data["recipe"], benchmarks=list(data["benchmarks"]), user=request.user,
            )
        except ArenaError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(request, f"launched {len(jobs)} job(s), batch {jobs[0].batch}")
            return redirect(f"/jobs/?batch={jobs[0].batch}")
    return render(request, "training/job_launch.html", {"form": form})


def job_detail_page(request, job_id: int):
    try:
        job = selectors.job_get(viewer=request.user, job_id=job_id)
    except NotFound:
        raise Http404("no such job") from None
    return render(request, "training/job_detail.html", {
        "job": job,
        "results": job.results.all(),
        "log_lines": job.logs.splitlines()[-200:],
        "may_control": job_can_control(job=job, user=request.user),
        "refresh": job.status in RUNNING,
    })


@login_required
@require_POST
def job_cancel_page(request, job_id: int):
    return _act(request, job_id, services.job_cancel, "cancel requested")


@login_required
@require_POST
def job_retry_page(request, job_id: int):
    return _act(request, job_id, services.job_retry, "retry queued")


def _act(request, job_id: int, action, done: str):
    try:
        job = selectors.job_get(viewer=request.user, job_id=job_id)
    except NotFound:
        raise Http404("no such job") from None
    try:
        action(job=job, user=request.user)
        messages.success(request, done)
    except ArenaError as exc:
        messages.error(request, exc.message)
    return redirect("job-detail", job_id=job.pk)
