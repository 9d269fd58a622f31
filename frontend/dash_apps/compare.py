"""The comparison Dash app (2-4 datasets side by side) and the "which scores predict value" app.

Callbacks call ``training.leaderboard.selectors`` with the request's user and only build figures.
"""
from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
from dash import dash_table, dcc, html
from dash.dependencies import Input, Output
from django_plotly_dash import DjangoDash

from arena.errors import ArenaError
from frontend.dash_apps.common import STYLESHEETS, empty_figure
from training.leaderboard import selectors
from training.leaderboard.compute import DOMAINS, KEYS

COMPARE_APP = "arena-compare"
PREDICTORS_APP = "arena-predictors"

app = DjangoDash(COMPARE_APP, serve_locally=True, external_stylesheets=STYLESHEETS)

app.layout = html.Div(
    className="dash-board",
    children=[
        dcc.Store(id="initial", data=[]),  # slugs from the page URL (initial_arguments)
        html.Div(
            className="lb-filters",
            children=[
                dcc.Dropdown(id="datasets", multi=True, placeholder="pick 2-4 datasets", options=[], value=[],
                             style={"minWidth": "30rem"}),
                dcc.Dropdown(id="cmp-base-model", placeholder="base model", options=[], value=None,
                             clearable=False, style={"minWidth": "12rem"}),
            ],
        ),
        html.P(id="cmp-note", className="lb-note"),
        dcc.Graph(id="bars", config={"displaylogo": False}),
        html.Div(className="two-col", children=[
            dcc.Graph(id="radar", config={"displaylogo": False}),
            html.Div([html.H4("P(row beats column)"), dash_table.DataTable(id="p-better", columns=[], data=[])]),
        ]),
        dcc.Graph(id="score-hist", config={"displaylogo": False}),
        dcc.Graph(id="lengths", config={"displaylogo": False}),
    ],
)


@app.callback(
    Output("datasets", "options"), Output("datasets", "value"), Output("cmp-base-model", "options"),
    Output("cmp-base-model", "value"),
    Input("initial", "data"),
)
def init_compare(initial, *, user=None):
    options = selectors.compare_dataset_options(viewer=user)
    allowed = {o["value"] for o in options}
    chosen = [s for s in (initial or []) if s in allowed][: selectors.MAX_COMPARE]
    base_models = selectors.leaderboard_filter_options(viewer=user)["base_models"]
    return options, chosen, base_models, (base_models[0]["value"] if base_models else None)


def benchmark_bars(*, entry: dict, datasets: list[dict]) -> go.Figure:
    fig = go.Figure()
    names = [b["name"] for b in entry["benchmarks"]]
    for d in datasets:
        cells = [b["datasets"].get(d["dataset"], {}) for b in entry["benchmarks"]]
        means = [c.get("mean") for c in cells]
        fig.add_bar(
            name=d["name"], x=names, y=means,
            error_y={"type": "data", "symmetric": False,
                     "array": [(c["ci_high"] - c["mean"]) if c.get("ci_high") is not None else 0 for c in cells],
                     "arrayminus": [(c["mean"] - c["ci_low"]) if c.get("ci_low") is not None else 0 for c in cells]},
        )
    fig.add_scatter(name="base model", x=names, y=[b["reference"] for b in entry["benchmarks"]], mode="markers",
                    marker={"symbol": "line-ew-open", "size": 18, "color": "black"})
    fig.update_layout(barmode="group", title=f"Benchmark scores on {entry['base_model']['name']} (95% CI over seeds)",
                      height=380, margin={"l": 40, "r": 10, "t": 40, "b": 60}, yaxis_title="score")
    return fig


def domain_radar(*, entry: dict) -> go.Figure:
    fig = go.Figure()
    rows = ([entry["reference"]] if entry["reference"] else []) + entry["rows"]
    for row in rows:
        values = [row["domain_scores"][d] or 0.0 for d in DOMAINS]
        fig.add_scatterpolar(r=values + values[:1], theta=[*DOMAINS, DOMAINS[0]], name=row["name"], fill="toself",
                             opacity=0.5)
    top = max([v for row in rows for v in row["domain_scores"].values() if v is not None], default=1.0)
    fig.update_layout(title="Domain averages", height=360, margin={"l": 40, "r": 40, "t": 40, "b": 20},
                      polar={"radialaxis": {"range": [0, min(1.0, top * 1.1)]}})
    return fig


def p_better_table(*, entry: dict) -> tuple[list[dict], list[dict]]:
    slugs = [r["dataset"] for r in entry["rows"]]
    columns = [{"name": "", "id": "row"}] + [{"name": s, "id": s} for s in slugs]
    data = []
    for x in slugs:
        record = {"row": x}
        for y in slugs:
            p = entry["p_better"].get(x, {}).get(y)
            record[y] = "–" if x == y or p is None else f"{p:.2f}"
        data.append(record)
    return columns, data


def _histogram_counts(histogram) -> tuple[list[float], list[float]]:
    """Bin centres and counts of a score histogram as the scoring engine stores it: ``{"edges": [...],
    "counts": [...]}`` or a plain list of counts over equal bins of [0, 1]."""
    if isinstance(histogram, dict):
        counts = list(histogram.get("counts") or [])
        edges = list(histogram.get("edges") or histogram.get("bins") or np.linspace(0, 1, len(counts) + 1))
    else:
        counts = list(histogram or [])
        edges = list(np.linspace(0, 1, len(counts) + 1))
    centres = [(a + b) / 2 for a, b in zip(edges[:-1], edges[1:])]
    return centres, counts


def score_histograms(*, distributions: dict, datasets: list[dict]) -> go.Figure:
    if not distributions["available"]:
        return empty_figure(distributions["note"])
    names = {d["dataset"]: d["name"] for d in datasets}
    panels = sorted({(s["axis"], s["scorer"]) for items in distributions["datasets"].values() for s in items
                     if s.get("histogram")})
    if not panels:
        return empty_figure("These datasets have no score aggregates yet")
    from plotly.subplots import make_subplots

    cols = min(3, len(panels))
    rows = (len(panels) + cols - 1) // cols
    fig = make_subplots(rows=rows, cols=cols, subplot_titles=[f"{a} ({s})" for a, s in panels])
    for i, (axis, scorer) in enumerate(panels):
        for k, (slug, items) in enumerate(distributions["datasets"].items()):
            for s in items:
                if s["axis"] == axis and s["scorer"] == scorer and s.get("histogram"):
                    x, y = _histogram_counts(s["histogram"])
                    total = sum(y) or 1
                    fig.add_scatter(x=x, y=[c / total for c in y], name=names[slug], legendgroup=slug,
                                    showlegend=i == 0, line={"shape": "hvh"}, row=i // cols + 1, col=i % cols + 1,
                                    marker={"color": f"hsl({k * 90}, 60%, 45%)"})
    fig.update_layout(title="Score distributions per scoring axis (share of samples, normalised scores)", height=260 * rows + 60,
                      margin={"l": 40, "r": 10, "t": 60, "b": 30})
    return fig


def length_histograms(*, lengths: dict, datasets: list[dict]) -> go.Figure:
    edges = lengths["edges"]
    if not edges:
        return empty_figure("No response lengths available (datasets not ingested)")
    centres = [(a + b) / 2 for a, b in zip(edges[:-1], edges[1:])]
    fig = go.Figure()
    for d in datasets:
        counts = lengths["counts"][d["dataset"]]
        total = sum(counts) or 1
        fig.add_scatter(x=centres, y=[c / total for c in counts], name=f"{d['name']} "
                        f"(n={lengths['sampled_rows'][d['dataset']]})", line={"shape": "hvh"})
    fig.update_layout(title="Answer length distribution (response tokens, first samples of each dataset)",
                      xaxis_title="response tokens", yaxis_title="share of samples", height=320,
                      margin={"l": 40, "r": 10, "t": 40, "b": 40})
    return fig


@app.callback(
    Output("bars", "figure"), Output("radar", "figure"), Output("p-better", "columns"), Output("p-better", "data"),
    Output("score-hist", "figure"), Output("lengths", "figure"), Output("cmp-note", "children"),
    Input("datasets", "value"), Input("cmp-base-model", "value"),
)
def update_compare(datasets, base_model, *, user=None):
    blank = empty_figure("Pick 2 to 4 datasets")
    if not datasets or len(datasets) < 2 or not base_model:
        return blank, blank, [], [], blank, blank, "Pick 2 to 4 datasets and a base model."
    try:
        data = selectors.leaderboard_compare(viewer=user, datasets=datasets, base_model=base_model)
    except ArenaError as exc:
        return blank, blank, [], [], blank, blank, exc.message
    entry = data["base_models"][0]
    note = ""
    if entry["missing"]:
        note = f"No results on {entry['base_model']['name']} for: {', '.join(entry['missing'])}. "
    note += "P(X > Y) is " + data["definitions"]["p_better"].split(": ", 1)[1] + "."
    columns, rows = p_better_table(entry=entry)
    return (
        benchmark_bars(entry=entry, datasets=data["datasets"]),
        domain_radar(entry=entry),
        columns, rows,
        score_histograms(distributions=data["score_distributions"], datasets=data["datasets"]),
        length_histograms(lengths=data["response_lengths"], datasets=data["datasets"]),
        note,
    )


# --- which scores predict value --------------------------------------------------------------------------------

predictors = DjangoDash(PREDICTORS_APP, serve_locally=True, external_stylesheets=STYLESHEETS)

predictors.layout = html.Div(
    className="dash-board",
    children=[
        dcc.Store(id="pred-init", data=0),
        dcc.Dropdown(id="pred-base-model", placeholder="base model", options=[], value=None, clearable=False,
                     style={"maxWidth": "20rem"}),
        html.P(id="pred-note", className="lb-note"),
        dcc.Graph(id="pred-heatmap", config={"displaylogo": False}),
        dash_table.DataTable(id="pred-table", columns=[
            {"name": "Scorer", "id": "scorer"}, {"name": "Axis", "id": "axis"}, {"name": "Domain", "id": "domain"},
            {"name": "Spearman ρ", "id": "rho", "type": "numeric", "format": {"specifier": ".2f"}},
            {"name": "CI low", "id": "ci_low", "type": "numeric", "format": {"specifier": ".2f"}},
            {"name": "CI high", "id": "ci_high", "type": "numeric", "format": {"specifier": ".2f"}},
            {"name": "Datasets", "id": "n", "type": "numeric"},
        ], data=[], sort_action="native", page_size=40),
    ],
)


@predictors.callback(Output("pred-base-model", "options"), Output("pred-base-model", "value"),
                     Input("pred-init", "data"))
def init_predictors(_init, *, user=None):
    base_models = selectors.leaderboard_filter_options(viewer=user)["base_models"]
    return base_models, (base_models[0]["value"] if base_models else None)


@predictors.callback(Output("pred-heatmap", "figure"), Output("pred-table", "data"), Output("pred-note", "children"),
                     Input("pred-base-model", "value"))
def update_predictors(base_model, *, user=None):
    if not base_model:
        return empty_figure("No results yet"), [], "No base model has finished jobs yet."
    try:
        result = selectors.score_predictors(viewer=user, base_model=base_model)
    except ArenaError as exc:
        return empty_figure(exc.message), [], exc.message
    if not result["available"] or not result["rows"]:
        return empty_figure(result["note"]), [], result["note"]
    labels = sorted({f"{r['axis']} ({r['scorer']})" for r in result["rows"]})
    z = [[None] * len(KEYS) for _ in labels]
    text = [[""] * len(KEYS) for _ in labels]
    for r in result["rows"]:
        i, j = labels.index(f"{r['axis']} ({r['scorer']})"), KEYS.index(r["domain"])
        z[i][j] = r["rho"]
        if r["rho"] is not None:
            text[i][j] = f"{r['rho']:.2f} [{r['ci_low']:.2f}, {r['ci_high']:.2f}] n={r['n']}"
    fig = go.Figure(go.Heatmap(z=z, x=list(KEYS), y=labels, text=text, texttemplate="%{text}", zmin=-1, zmax=1,
                               colorscale="RdBu"))
    fig.update_layout(title="Spearman ρ between scorer mean and leaderboard Δ (95% bootstrap CI)",
                      height=max(260, 40 * len(labels) + 120), margin={"l": 10, "r": 10, "t": 40, "b": 30})
    return fig, result["rows"], "Each cell correlates a scorer's dataset mean with the datasets' gain over the " \
        "base model, over the datasets you may see; intervals resample datasets (2000 resamples)."
