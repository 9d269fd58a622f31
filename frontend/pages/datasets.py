"""Server-rendered pages (no JavaScript framework): dataset list, detail and upload."""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.views.decorators.cache import cache_control
from django.shortcuts import redirect, render
from django.templatetags.static import static

from arena import selectors, services, uploads
from arena.errors import ArenaError, NotFound
from frontend.composition import dataset_card_context
from frontend.forms import UploadForm


FAVICON = Path(__file__).parent.parent / "static" / "frontend" / "favicon.svg"


@cache_control(max_age=86400, public=True)
def favicon(request):
    """``/favicon.ico``, which browsers (and Dash pages) ask for on their own: the Arena icon as SVG."""
    return HttpResponse(FAVICON.read_bytes(), content_type="image/svg+xml")


REDOC_LOGO_URL = "https://cdn.redoc.ly/redoc/logo-mini.svg"


@lru_cache(maxsize=1)
def _redoc_bundle() -> bytes:
    from django.contrib.staticfiles import finders

    path = finders.find("drf_spectacular_sidecar/redoc/bundles/redoc.standalone.js")
    return Path(path).read_bytes().replace(REDOC_LOGO_URL.encode(), static("frontend/favicon.svg").encode())


@cache_control(max_age=86400, public=True)
def redoc_bundle(request):
    """The sidecar's ReDoc bundle with its one hard-wired CDN request (the "API docs by Redocly" logo) pointed at
    the local icon, so the API reference page works offline and makes no request off this server."""
    return HttpResponse(_redoc_bundle(), content_type="application/javascript")


def dataset_list_page(request):
    qs = selectors.dataset_list(
        viewer=request.user,
        search=request.GET.get("q", ""),
        domain=request.GET.get("domain", ""),
    )
    page = Paginator(qs, 50).get_page(request.GET.get("page"))
    return render(request, "frontend/dataset_list.html", {"page": page, "q": request.GET.get("q", "")})


def dataset_detail_page(request, slug: str):
    try:
        dataset = selectors.dataset_get(viewer=request.user, slug=slug)
    except NotFound:
        raise Http404("no such dataset") from None
    try:
        offset = max(int(request.GET.get("offset", 0)), 0)
    except ValueError:
        offset = 0
    samples = selectors.dataset_samples_page(dataset=dataset, offset=offset, limit=10)
    return render(
        request,
        "frontend/dataset_detail.html",
        {
            "dataset": dataset,
            "samples": samples,
            "offset": offset,
            "next_offset": offset + 10 if offset + 10 < (dataset.sample_count or 0) else None,
            "prev_offset": max(offset - 10, 0) if offset > 0 else None,
            **dataset_card_context(request=request, dataset=dataset),
            "near_duplicates": selectors.dataset_near_duplicates(dataset=dataset, viewer=request.user),
        },
    )


@login_required
def dataset_upload_page(request):
    form = UploadForm(request.POST or None, request.FILES or None)
    preview = None
    if request.method == "POST" and "preview" in request.POST:
        for name in ("name", "visibility"):  # a preview registers nothing, so it needs neither yet
            form.fields[name].required = False
    if request.method == "POST" and form.is_valid() and "preview" in request.POST:
        data = form.cleaned_data
        try:
            preview = uploads.dataset_preview(
                owner=request.user,
                upload=data["file"],
                filename=data["file"].name,
                file_format=data["file_format"] or None,
                sample_format=data["sample_format"] or None,
                policy=data["policy"],
            )
        except ArenaError as exc:
            form.add_error(None, exc.message)
        else:
            return render(request, "frontend/dataset_upload.html", {"form": form, "preview": preview})
    elif request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            parents = [
                services.ParentSpec(
                    dataset=selectors.dataset_get(viewer=request.user, slug=slug.strip()),
                    relation=data["parent_relation"] or "subset",
                    evidence=data["parent_evidence"],
                )
                for slug in data["parents"].split(",")
                if slug.strip()
            ]
            dataset = services.dataset_register(
                owner=request.user,
                upload=data["file"],
                filename=data["file"].name,
                name=data["name"],
                visibility=data["visibility"],
                domains=data["domains"],
                license=data["license"],
                description=data["description"],
                source_url=data["source_url"],
                parents=parents,
                file_format=data["file_format"] or None,
                sample_format=data["sample_format"] or None,
                policy=data["policy"],
            )
        except ArenaError as exc:
            form.add_error(None, exc.message)
        else:
            dataset.refresh_from_db()
            if dataset.status == dataset.Status.FAILED:
                messages.error(request, f"Ingest failed: {dataset.error}")
            else:
                messages.success(request, f"Dataset {dataset.name!r} registered ({dataset.status}).")
            return redirect("dataset-detail", slug=dataset.slug)
    status = 400 if request.method == "POST" else 200
    return render(request, "frontend/dataset_upload.html", {"form": form}, status=status)
