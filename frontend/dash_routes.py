"""django-plotly-dash's maintenance route ``add_stateless_apps`` writes database rows; the library serves it to
anyone on GET. Here it needs a staff user and a POST (the rows are created at migrate time anyway)."""
from __future__ import annotations

from django.contrib.admin.views.decorators import staff_member_required
from django.views.decorators.http import require_POST
from django_plotly_dash.views import add_stateless_apps


@require_POST
@staff_member_required
def staff_add_stateless_apps(request):
    return add_stateless_apps(request)
