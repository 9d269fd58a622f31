"""The genealogy Dash app (dash-cytoscape): pick target datasets and a depth, see their lineage.

Every callback is thin and scoped: it reads the logged-in user that django-plotly-dash injects
(``user`` in ``**kwargs``) and calls ``lineage.selectors`` with it, so a dataset the user may not
see never reaches the browser. Callbacks are plain module functions, testable by direct calls.

Layout for big graphs: up to LAYOUT_BREADTHFIRST_MAX nodes the graph uses cytoscape's
``breadthfirst`` layout (O(n + e), directed, roots on top); above that ``grid`` (O(n), no
physics), labels are hidden until zoomed in and edges drawn ``haystack`` (cheapest renderer), so
1,000+ nodes stay responsive. Force-directed ``cose`` is never used: it is quadratic per iteration.
"""
from __future__ import annotations

import dash_cytoscape as cyto
from dash import dcc, html
from dash.dependencies import Input, Output, State
from django.db.models import Q
from django_plotly_dash import DjangoDash

from arena.errors import ArenaError
from arena.selectors import dataset_visible_queryset
from lineage import selectors

APP_NAME = "genealogy"
STYLESHEETS = ["/static/frontend/arena.css"]  # served by Django itself, never a CDN
LAYOUT_BREADTHFIRST_MAX = 400
MAX_OPTIONS = 100

ROLE_COLOURS = {"target": "#d62728", "root": "#2ca02c", "intermediate": "#7f7f7f"}
DOMAIN_COLOURS = {
    "general": "#9ecae1",
    "math": "#fdd0a2",
    "code": "#c7e9c0",
    "reasoning": "#dadaeb",
    "science": "#fcbba1",
    "mixed": "#f0f0f0",
}
RELATION_COLOURS = {
    "subset": "#1f77b4",
    "mixture": "#ff7f0e",
    "distillation": "#9467bd",
    "synthetic": "#8c564b",
    "translation": "#e377c2",
    "evolution": "#17becf",
    "overlap": "#bcbd22",
}

STYLESHEET = [
    {
        "selector": "node",
        "style": {
            "label": "data(label)",
            "font-size": 10,
            "min-zoomed-font-size": 6,
            "background-color": "#f0f0f0",
            "border-width": 3,
            "border-color": ROLE_COLOURS["intermediate"],
            "text-valign": "bottom",
            "text-wrap": "wrap",  # long names and contamination notes wrap instead of overlapping
            "text-max-width": "150px",
        },
    },
    *({"selector": f".domain-{d}", "style": {"background-color": c}} for d, c in DOMAIN_COLOURS.items()),
    *({"selector": f".role-{r}", "style": {"border-color": c}} for r, c in ROLE_COLOURS.items()),
    {"selector": ".role-target", "style": {"border-width": 6}},
    {"selector": ".contaminated", "style": {"shape": "diamond", "color": "#b30000"}},
    {"selector": ".inherits", "style": {"border-style": "dashed", "color": "#b30000"}},
    {
        "selector": "edge",
        "style": {
            "curve-style": "bezier",
            "target-arrow-shape": "triangle",
            "width": 2,
            "line-color": "#999",
            "target-arrow-color": "#999",
        },
    },
    *(
        {"selector": f".relation-{r}", "style": {"line-color": c, "target-arrow-color": c}}
        for r, c in RELATION_COLOURS.items()
    ),
    {"selector": ".origin-declared", "style": {"line-style": "solid"}},
    {"selector": ".origin-inferred", "style": {"line-style": "dashed"}},
    {"selector": ".big", "style": {"curve-style": "haystack", "min-zoomed-font-size": 12}},
]


def _legend() -> html.Div:
    def swatch(colour: str, label: str, border: bool = False) -> html.Span:
        style = {"display": "inline-block", "width": "0.9em", "height": "0.9em", "marginRight": "0.3em"}
        style |= {"border": f"3px solid {colour}"} if border else {"background": colour}
        return html.Span([html.Span(style=style), label], style={"marginRight": "1em"})

    return html.Div(
        className="genealogy-legend",
        children=[
            html.Div(["Role (border): ", *(swatch(c, r, border=True) for r, c in ROLE_COLOURS.items())]),
            html.Div(["Domain (fill): ", *(swatch(c, d) for d, c in DOMAIN_COLOURS.items())]),
            html.Div(["Relation (edge colour): ", *(swatch(c, r) for r, c in RELATION_COLOURS.items())]),
            html.Div("Declared edges solid, inferred dashed. Diamond: contaminated; dashed border: inherits contamination."),
        ],
    )


app = DjangoDash(APP_NAME, serve_locally=True, external_stylesheets=STYLESHEETS)

app.layout = html.Div(
    className="dash-genealogy",
    children=[
        html.Div(
            className="genealogy-controls",
            children=[
                dcc.Dropdown(id="targets", multi=True, placeholder="target datasets", options=[], value=[],
                             style={"minWidth": "24rem"}),
                html.Label(["Depth ", dcc.Slider(id="depth", min=0, max=selectors.MAX_DEPTH, step=1, value=2)]),
            ],
        ),
        html.Div(id="message", className="genealogy-message"),
        cyto.Cytoscape(
            id="graph",
            elements=[],
            layout={"name": "breadthfirst", "directed": True, "animate": False},
            stylesheet=STYLESHEET,
            style={"width": "100%", "height": "560px"},
            minZoom=0.05,
            maxZoom=3,
        ),
        _legend(),
        html.Div(id="card", className="genealogy-card"),
    ],
)


def _viewer(kwargs: dict):
    """The user django-plotly-dash injected; None (anonymous: public data only) when called without one."""
    return kwargs.get("user")


def target_options(search_value, selected, **kwargs) -> list[dict]:
    """Dropdown options: datasets the user may see matching the search, plus the ones already selected."""
    viewer = _viewer(kwargs)
    qs = dataset_visible_queryset(viewer=viewer).order_by("name")
    if search_value:
        qs = qs.filter(Q(name__icontains=search_value) | Q(slug__icontains=search_value))
    found = list(qs.values_list("slug", "name")[:MAX_OPTIONS])
    if selected:
        found += list(dataset_visible_queryset(viewer=viewer).filter(slug__in=selected).values_list("slug", "name"))
    return [{"label": f"{name} ({slug})", "value": slug} for slug, name in dict(found).items()]


def graph_elements(graph: dict) -> tuple[list[dict], dict]:
    """Cytoscape elements and layout for a ``lineage_graph`` payload."""
    big = len(graph["nodes"]) > LAYOUT_BREADTHFIRST_MAX
    elements = []
    for node in graph["nodes"]:
        classes = [f"role-{node['role']}", f"domain-{node['domains'][0] if node['domains'] else 'none'}"]
        label = node["name"]
        if node["contamination"]:
            classes.append("contaminated")
            label += " ⚠ " + ", ".join(f["benchmark"] for f in node["contamination"])
        if node["inherits_contamination_from"]:
            classes.append("inherits")
            label += " (inherits contamination from " + ", ".join(node["inherits_contamination_from"]) + ")"
        if big:
            classes.append("big")
        elements.append({"data": {"id": node["id"], "label": label, "role": node["role"]}, "classes": " ".join(classes)})
    for edge in graph["edges"]:
        classes = [f"relation-{edge['relation']}", f"origin-{edge['origin']}"] + (["big"] if big else [])
        elements.append(
            {
                "data": {
                    "id": f"e{edge['id']}",
                    "source": edge["parent"],
                    "target": edge["child"],
                    "relation": edge["relation"],
                    "origin": edge["origin"],
                    "confidence": edge["confidence"],
                },
                "classes": " ".join(classes),
            }
        )
    if big:
        layout = {"name": "grid", "animate": False, "avoidOverlap": False}
    else:
        layout = {"name": "breadthfirst", "directed": True, "animate": False, "spacingFactor": 1.6,
                  "roots": [n["id"] for n in graph["nodes"] if n["role"] == "root"] or None}
        if layout["roots"] is None:
            del layout["roots"]
    return elements, layout


def render_graph(targets, depth, **kwargs) -> tuple[list[dict], dict, str]:
    """The graph of the selected targets, as the logged-in user may see it."""
    if not targets:
        return [], {"name": "breadthfirst", "animate": False}, "Choose one or more target datasets."
    try:
        graph = selectors.lineage_graph(viewer=_viewer(kwargs), slugs=list(targets), depth=depth)
    except ArenaError as exc:
        return [], {"name": "breadthfirst", "animate": False}, exc.message
    elements, layout = graph_elements(graph)
    message = f"{len(graph['nodes'])} datasets, {len(graph['edges'])} edges (depth {graph['depth']})."
    return elements, layout, message


def _fmt_share(value) -> str:
    return "–" if value is None else f"{100 * value:.1f}%"


def show_card(node_data, **kwargs):
    """The clicked dataset's card, re-read on the server for the logged-in user (never trusted from the client)."""
    if not node_data:
        return html.P("Click a dataset to see its card.")
    try:
        card = selectors.dataset_card(viewer=_viewer(kwargs), slug=str(node_data.get("id", "")))
    except ArenaError as exc:
        return html.P(exc.message, className="error")
    parents = [
        html.Li(
            f"{p['parent']} — {p['relation']} ({p['origin']}, confidence {p['confidence']:.2f})"
            + (f": {p['evidence']}" if p["evidence"] else "")
        )
        for p in card["parents"]
    ]
    contamination = card["contamination"]
    findings = [
        html.Li(f"{f['benchmark']}: {f['items_contaminated']}/{f['items_total']} items ({_fmt_share(f['ratio'])}), "
                f"{f['samples_hitting']} samples, {f['ngram_size']}-grams [{f['status']}]")
        for f in contamination["findings"]
    ]
    inherited = [
        html.Li(f"inherits contamination from {i['dataset']} ({i['distance']} generation(s) up)")
        for i in contamination["inherits_contamination_from"]
    ]
    return html.Div(
        [
            html.H3(html.A(card["name"], href=f"/datasets/{card['slug']}/", target="_top")),
            html.P(
                f"{card['slug']} · owner {card['owner']} · {card['visibility']} · {card['status']} · "
                f"{card['sample_count'] or 0:,} samples · domains: {', '.join(card['domains']) or 'none'}"
            ),
            html.P(card["description"]) if card["description"] else None,
            html.H4("Parents"),
            html.Ul(parents) if parents else html.P("No visible parents (a root)."),
            html.H4("Contamination"),
            html.Ul(findings + inherited) if findings or inherited else html.P("No contamination found or inherited."),
            html.H4("Scores"),
            html.Pre(repr(card["scores"])) if card["scores"] else html.P("No score summary available."),
            html.H4("Leaderboard"),
            html.Ul([html.Li(f"{r['base_model']}: rank {r['rank']}") for r in card["leaderboard"]])
            if card["leaderboard"]
            else html.P("Not ranked yet."),
        ]
    )


app.callback(Output("targets", "options"), Input("targets", "search_value"), State("targets", "value"))(target_options)
app.callback(
    Output("graph", "elements"), Output("graph", "layout"), Output("message", "children"),
    Input("targets", "value"), Input("depth", "value"),
)(render_graph)
app.callback(Output("card", "children"), Input("graph", "tapNodeData"))(show_card)
