"""The genealogy page: embeds the genealogy Dash app (importing it here registers it at startup)."""
from __future__ import annotations

from django.http import Http404, JsonResponse
from django.shortcuts import render

import frontend.dash_apps.genealogy  # noqa: F401  (registers the "genealogy" DjangoDash app)
from lineage.selectors import MAX_DEPTH, genealogy_default_target


def genealogy_page(request):
    """``/lineage/?dataset=a&dataset=b&depth=2`` preselects targets; without any, the visible dataset with the
    most lineage edges is preselected. The app itself scopes data to the user."""
    initial = {}
    slugs = [s for value in request.GET.getlist("dataset") for s in value.split(",") if s.strip()]
    preselected = False
    if not slugs:
        default = genealogy_default_target(viewer=request.user)
        slugs, preselected = ([default], True) if default else ([], False)
    if slugs:
        # the dropdown drops values missing from its options, so the options come with them (visible ones only)
        options = frontend.dash_apps.genealogy.target_options(None, slugs, user=request.user)
        visible = {o["value"] for o in options}
        initial["targets"] = {"value": [s for s in slugs if s in visible], "options": options}
    depth = request.GET.get("depth", "")
    if depth.isdigit() and int(depth) <= MAX_DEPTH:
        initial["depth"] = {"value": int(depth)}
    return render(request, "lineage/genealogy.html", {"initial_arguments": initial or None,
                                                      "preselected": slugs[0] if preselected else ""})


def openlineage_facet_schema(request, name: str):
    """``/openlineage/facets/1-0-0/<Facet>.json``: the JSON schema an Arena facet's ``_schemaURL`` names."""
    from lineage.openlineage import custom_facet_schema

    try:
        schema = custom_facet_schema(name)
    except KeyError:
        raise Http404(f"no Arena OpenLineage facet {name!r}") from None
    response = JsonResponse(schema, json_dumps_params={"indent": 2})
    response["Content-Type"] = "application/schema+json"
    response["Access-Control-Allow-Origin"] = "*"  # schema registries and validators fetch it cross-origin
    return response
