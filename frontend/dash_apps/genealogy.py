"""The genealogy Dash app (dash-cytoscape): pick target datasets and a depth, see their lineage.

Every callback is thin and scoped: it reads the logged-in user that django-plotly-dash injects
(``user`` in ``**kwargs``) and calls ``lineage.selectors`` with it, so a dataset the user may not
see never reaches the browser. Callbacks are plain module functions, testable by direct calls.

Layout: a layered DAG computed on the server (``genealogy_layout``): generations left to right, no
physics, O(n + e), so 1,000+ nodes stay responsive. Labels are 13 px, below their node on a white
backing so edges never run through them; contamination is a red badge on the node (an orange ring
when inherited), with the details on hover and in the card. Above BIG_GRAPH nodes labels appear only
once zoomed in and edges use cytoscape's cheapest renderer.
"""
from __future__ import annotations

from urllib.parse import quote

import dash_cytoscape as cyto
from dash import dcc, html
from dash.dependencies import Input, Output, State
from django.db.models import Q
from django_plotly_dash import DjangoDash

from arena.domains import DOMAINS
from arena.errors import ArenaError
from arena.permissions import dataset_visible_queryset
from frontend import composition
from frontend.dash_apps.genealogy_layout import layered_positions
from lineage import selectors

APP_NAME = "genealogy"
STYLESHEETS = ["/static/frontend/arena.css"]  # served by Django itself, never a CDN
BIG_GRAPH = 400
MAX_OPTIONS = 100
ORIGINS = ["declared", "inferred"]
MIN_CANVAS, MAX_CANVAS = 360, 4000  # px: the canvas grows with the tallest generation (50 siblings fit at zoom 1)

ROLE_COLOURS = {"target": "#d62728", "root": "#2ca02c", "intermediate": "#7f7f7f"}
DOMAIN_COLOURS = {d.name: d.colour for d in DOMAINS}  # the one vocabulary: arena.domains
RELATION_COLOURS = {
    "subset": "#1f77b4",
    "mixture": "#ff7f0e",
    "distillation": "#9467bd",
    "synthetic": "#8c564b",
    "translation": "#e377c2",
    "evolution": "#17becf",
    "overlap": "#bcbd22",
}


def _badge(text: str, *, fill: str, ring: str) -> str:
    """A small round badge as an SVG data URI (drawn on the node's corner; no request leaves the page)."""
    svg = (f'<svg xmlns="http://www.w3.org/2000/svg" width="20" height="20"><circle cx="10" cy="10" r="9" '
           f'fill="{fill}" stroke="{ring}" stroke-width="2"/><text x="10" y="14.5" font-size="12" '
           f'font-family="sans-serif" font-weight="700" text-anchor="middle" fill="white">{text}</text></svg>')
    return "data:image/svg+xml;utf8," + quote(svg)


STYLESHEET = [
    {
        "selector": "node",
        "style": {
            "label": "data(label)",
            "width": 26,
            "height": 26,
            "font-size": 13,
            "min-zoomed-font-size": 7,
            "color": "#111827",
            "background-color": "#f0f0f0",
            "border-width": 3,
            "border-color": ROLE_COLOURS["intermediate"],
            "text-valign": "bottom",
            "text-halign": "center",
            "text-margin-y": 4,
            "text-wrap": "wrap",
            "text-max-width": "220px",
            "text-background-color": "#ffffff",
            "text-background-opacity": 0.9,
            "text-background-padding": "2px",
            "text-background-shape": "roundrectangle",
        },
    },
    *({"selector": f".domain-{d}", "style": {"background-color": c}} for d, c in DOMAIN_COLOURS.items()),
    *({"selector": f".role-{r}", "style": {"border-color": c}} for r, c in ROLE_COLOURS.items()),
    {"selector": ".role-target", "style": {"border-width": 6, "font-weight": "bold"}},
    {"selector": ".has-badge", "style": {
        "background-image": "data(badge)", "background-width": "18px", "background-height": "18px",
        "background-position-x": "100%", "background-position-y": "0%", "background-clip": "none",
        "background-image-containment": "over", "bounds-expansion": 10, "background-fit": "none",
    }},
    {"selector": ".inherits", "style": {"outline-width": 3, "outline-color": "#f97316", "outline-offset": 2,
                                        "outline-style": "dashed"}},
    {
        "selector": "edge",
        "style": {
            "curve-style": "straight",
            "target-arrow-shape": "triangle",
            "arrow-scale": 1.2,
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
    {"selector": ".origin-inferred", "style": {"line-style": "dashed", "opacity": 0.85}},
    {"selector": ".big", "style": {"curve-style": "haystack", "min-zoomed-font-size": 12}},
    {"selector": "node:selected", "style": {"overlay-color": "#2563eb", "overlay-opacity": 0.15}},
]


def _legend() -> html.Div:
    def swatch(colour: str, label: str, border: bool = False) -> html.Span:
        style = {"display": "inline-block", "width": "0.9em", "height": "0.9em", "marginRight": "0.3em",
                 "verticalAlign": "middle"}
        style |= {"border": f"3px solid {colour}", "borderRadius": "50%"} if border else {"background": colour}
        return html.Span([html.Span(style=style), label], style={"marginRight": "1em", "whiteSpace": "nowrap"})

    return html.Div(
        className="genealogy-legend",
        children=[
            html.Div([html.B("Role (ring): "), *(swatch(c, r, border=True) for r, c in ROLE_COLOURS.items())]),
            html.Div([html.B("Domain (fill): "), *(swatch(c, d) for d, c in DOMAIN_COLOURS.items())]),
            html.Div([html.B("Relation (edge colour): "), *(swatch(c, r) for r, c in RELATION_COLOURS.items())]),
            html.Div([html.B("Edges: "), "solid = declared, dashed = inferred from sample overlap. ",
                      html.B("Badges: "), html.Img(src=_badge("2", fill="#dc2626", ring="#7f1d1d"),
                                                   style={"height": "1em", "verticalAlign": "middle"}),
                      " contaminated (number of benchmarks); dashed orange ring: inherits contamination from an "
                      "ancestor. Generations run left to right; hover a dataset for its contamination, click it "
                      "for its card."]),
        ],
    )


app = DjangoDash(APP_NAME, serve_locally=True, external_stylesheets=STYLESHEETS)

app.layout = html.Div(
    className="dash-genealogy dash-board",
    children=[
        html.Div(
            className="genealogy-controls lb-filters",
            children=[
                html.Label(["Targets ", dcc.Dropdown(id="targets", multi=True, placeholder="target datasets",
                                                     options=[], value=[], style={"minWidth": "26rem"})],
                           className="lb-field"),
                html.Label(["Depth ", html.Div(dcc.Slider(id="depth", min=0, max=selectors.MAX_DEPTH, step=1,
                                                          value=2), style={"width": "16rem"})],
                           className="lb-field"),
            ],
        ),
        html.Div(
            className="genealogy-controls lb-filters",
            children=[
                html.Label(["Edges ", dcc.Checklist(id="origins", options=[{"label": o, "value": o} for o in ORIGINS],
                                                    value=list(ORIGINS), inline=True)], className="lb-field"),
                html.Label(["Min. confidence of inferred edges ",
                            html.Div(dcc.Slider(id="min-confidence", min=0, max=1, step=0.05, value=0,
                                                marks={0: "0", 0.5: "0.5", 1: "1"}), style={"width": "16rem"})],
                           className="lb-field"),
            ],
        ),
        html.Div(id="message", className="genealogy-message lb-note"),
        dcc.Store(id="fitted", data=0),
        html.Div(className="genealogy-main", children=[
            cyto.Cytoscape(
                id="graph",
                elements=[],
                layout={"name": "preset", "animate": False, "fit": True, "padding": 30},
                stylesheet=STYLESHEET,
                style={"width": "100%", "height": f"{MIN_CANVAS}px"},
                minZoom=0.05,
                maxZoom=3,
                wheelSensitivity=0.3,
            ),
            html.Div(id="hover", className="genealogy-hover", children="Hover a dataset for a summary."),
        ]),
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


def _contamination_text(node: dict) -> str:
    parts = [f["benchmark"] + (f": {f['items_contaminated']}/{f['items_total']} items" if "items_total" in f else "")
             for f in node["contamination"]]
    if node["inherits_contamination_from"]:
        parts.append("inherits from " + ", ".join(node["inherits_contamination_from"]))
    return "; ".join(parts)


def filter_graph(graph: dict, *, origins=None, min_confidence: float = 0.0) -> dict:
    """Keep the edges of the chosen origins (inferred ones at or above ``min_confidence``), then the datasets
    still connected to a target through them."""
    origins = set(ORIGINS if origins is None else origins)
    edges = [e for e in graph["edges"] if e["origin"] in origins
             and (e["origin"] != "inferred" or (e["confidence"] or 0) >= (min_confidence or 0))]
    linked: dict[str, set[str]] = {}
    for e in edges:
        linked.setdefault(e["parent"], set()).add(e["child"])
        linked.setdefault(e["child"], set()).add(e["parent"])
    keep, frontier = set(graph["targets"]), list(graph["targets"])
    while frontier:
        for other in linked.get(frontier.pop(), ()):
            if other not in keep:
                keep.add(other)
                frontier.append(other)
    return {**graph, "nodes": [n for n in graph["nodes"] if n["id"] in keep],
            "edges": [e for e in edges if e["parent"] in keep and e["child"] in keep]}


def graph_elements(graph: dict) -> tuple[list[dict], dict]:
    """Cytoscape elements (positions included) and the preset layout for a ``lineage_graph`` payload."""
    big = len(graph["nodes"]) > BIG_GRAPH
    ids = [n["id"] for n in graph["nodes"]]
    known = set(ids)
    positions, height = layered_positions(ids, [(e["parent"], e["child"]) for e in graph["edges"]
                                                if e["parent"] in known and e["child"] in known])
    elements = []
    for node in graph["nodes"]:
        classes = [f"role-{node['role']}", f"domain-{node['domains'][0] if node['domains'] else 'none'}"]
        data = {"id": node["id"], "label": node["name"], "role": node["role"],
                "distance": node.get("distance", 0), "contamination": _contamination_text(node)}
        if node["contamination"]:
            classes += ["contaminated", "has-badge"]
            data["badge"] = _badge(str(len(node["contamination"])), fill="#dc2626", ring="#7f1d1d")
        if node["inherits_contamination_from"]:
            classes.append("inherits")
        if big:
            classes.append("big")
        elements.append({"data": data, "classes": " ".join(classes), "position": positions[node["id"]]})
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
    layout = {"name": "preset", "animate": False, "fit": True, "padding": 30, "height": height}
    return elements, layout


def canvas_style(layout: dict) -> dict:
    return {"width": "100%", "height": f"{min(max(layout.get('height', MIN_CANVAS), MIN_CANVAS), MAX_CANVAS)}px"}


def render_graph(targets, depth, origins=None, min_confidence=0.0, **kwargs) -> tuple[list[dict], dict, str]:
    """The graph of the selected targets, as the logged-in user may see it, filtered by edge origin/confidence."""
    empty = {"name": "preset", "animate": False}
    if not targets:
        return [], empty, "Choose one or more target datasets."
    try:
        graph = selectors.lineage_graph(viewer=_viewer(kwargs), slugs=list(targets), depth=depth)
    except ArenaError as exc:
        return [], empty, exc.message
    shown = filter_graph(graph, origins=origins, min_confidence=min_confidence)
    elements, layout = graph_elements(shown)
    hidden = len(graph["edges"]) - len(shown["edges"])
    message = (f"{len(shown['nodes'])} datasets, {len(shown['edges'])} edges (depth {graph['depth']})"
               + (f"; {hidden} edge(s) hidden by the filters." if hidden else "."))
    return elements, layout, message


def update_graph(targets, depth, origins, min_confidence, **kwargs):
    elements, layout, message = render_graph(targets, depth, origins, min_confidence, **kwargs)
    return elements, layout, message, canvas_style(layout)


def _fmt_share(value) -> str:
    return "–" if value is None else f"{100 * value:.1f}%"


def _fmt(value, digits: int = 3) -> str:
    return "–" if value is None else f"{value:.{digits}f}"


def _table(headers: list[str], rows: list[list], *, numeric: set[int] = frozenset()) -> html.Table:
    return html.Table(className="grid compact", children=[
        html.Thead(html.Tr([html.Th(h, className="num" if i in numeric else None) for i, h in enumerate(headers)])),
        html.Tbody([html.Tr([html.Td(c, className="num" if i in numeric else None) for i, c in enumerate(row)])
                    for row in rows]),
    ])


def _dataset_link(slug: str, text: str | None = None) -> html.A:
    return html.A(text or slug, href=f"/datasets/{slug}/", target="_top")


def show_hover(node_data, **kwargs):
    """A one-line summary of the dataset under the pointer (data already in the graph: no new read)."""
    if not node_data:
        return "Hover a dataset for a summary."
    parts = [html.B(node_data.get("label", "")), f" · {node_data.get('role', '')}"]
    if node_data.get("contamination"):
        parts += [html.Br(), html.Span("⚠ " + node_data["contamination"], className="contamination")]
    return parts


def show_card(node_data, **kwargs):
    """The clicked dataset's card, re-read on the server for the logged-in user (never trusted from the client)."""
    if not node_data:
        return html.P("Click a dataset to see its card.", className="lb-note")
    try:
        card = composition.dataset_card(viewer=_viewer(kwargs), slug=str(node_data.get("id", "")))
    except ArenaError as exc:
        return html.P(exc.message, className="error")
    parents = _table(
        ["Parent", "Relation", "Origin", "Confidence", "Evidence"],
        [[_dataset_link(p["parent"]), p["relation"], p["origin"], _fmt(p["confidence"], 2), p["evidence"] or "–"]
         for p in card["parents"]], numeric={3},
    ) if card["parents"] else html.P("No visible parents (a root).")
    contamination = card["contamination"]
    findings = _table(
        ["Benchmark", "Items contaminated", "Share", "Samples hitting", "n-gram", "Status"],
        [[f["benchmark"], f"{f['items_contaminated']}/{f['items_total']}", _fmt_share(f["ratio"]),
          f"{f['samples_hitting']:,}", f["ngram_size"], f["status"]] for f in contamination["findings"]],
        numeric={1, 2, 3, 4},
    ) if contamination["findings"] else html.P("No contamination scan found contamination here.")
    inherited = html.Ul([
        html.Li(["inherits contamination from ", _dataset_link(i["dataset"]), f" ({i['distance']} generation(s) up)"])
        for i in contamination["inherits_contamination_from"]
    ]) if contamination["inherits_contamination_from"] else None
    scores = card["scores"] or []
    score_table = _table(
        ["Axis", "Scorer", "Mean", "Median", "p10", "p90", "Normalised mean"],
        [[s["axis"], s["scorer"],
          _fmt(s["value"]) + " (whole set)" if s.get("scope") == "setwise" else (
              "n/a (undefined for every sample)" if s.get("mean") is None else _fmt(s["mean"])),
          _fmt(s.get("median")), _fmt(s.get("p10")), _fmt(s.get("p90")),
          _fmt((s.get("normalised") or {}).get("mean"))] for s in scores],
        numeric={2, 3, 4, 5, 6},
    ) if scores else html.P("No score summary available.")
    board = _table(
        ["Base model", "Rank", "Score"],
        [[r["base_model"], r["rank"], _fmt(r.get("score"))] for r in card["leaderboard"]], numeric={1, 2},
    ) if card["leaderboard"] else html.P("Not ranked yet.")
    return html.Div([
        html.H3(_dataset_link(card["slug"], card["name"])),
        html.P(f"{card['slug']} · owner {card['owner']} · {card['visibility']} · {card['status']} · "
               f"{card['sample_count'] or 0:,} samples · domains: {', '.join(card['domains']) or 'none'}"),
        html.P(card["description"]) if card["description"] else None,
        html.Div(className="card-grid", children=[
            html.Div([html.H4("Parents"), parents]),
            html.Div([html.H4("Contamination"), findings, inherited]),
            html.Div([html.H4("Leaderboard"), board]),
            html.Div([html.H4("Scores"), score_table]),
        ]),
    ])


app.callback(Output("targets", "options"), Input("targets", "search_value"), State("targets", "value"))(target_options)
app.callback(
    Output("graph", "elements"), Output("graph", "layout"), Output("message", "children"), Output("graph", "style"),
    Input("targets", "value"), Input("depth", "value"), Input("origins", "value"), Input("min-confidence", "value"),
)(update_graph)
app.callback(Output("hover", "children"), Input("graph", "mouseoverNodeData"))(show_hover)
# The canvas height follows the tallest generation; cytoscape does not notice its container growing, so once the
# new height is in the page it is told to resize and fit (never zoomed in beyond 1.5x for a small family).
app.clientside_callback(
    """function (style, elements) {
        setTimeout(function () {
            var root = document.getElementById("graph");
            var nodes = root ? [root].concat(Array.prototype.slice.call(root.querySelectorAll("*"))) : [];
            for (var i = 0; i < nodes.length; i++) {
                if (nodes[i]._cyreg) {
                    var cy = nodes[i]._cyreg.cy;
                    cy.resize();
                    cy.fit(undefined, 30);
                    if (cy.zoom() > 1.5) { cy.zoom(1.5); cy.center(); }
                    return;
                }
            }
        }, 80);
        return Date.now();
    }""",
    Output("fitted", "data"), Input("graph", "style"), Input("graph", "elements"),
)
app.callback(Output("card", "children"), Input("graph", "tapNodeData"))(show_card)
