"""Ground truth: a family with a known genealogy, uploaded in several orders (children before parents too),
is recovered with the same edges and directions every time; contamination flows only downward."""
from __future__ import annotations

import pytest

from arena.models import Dataset
from lineage.contamination_services import contamination_scan_run
from lineage.models import ContaminationFinding
from lineage.selectors import current_edges, lineage_graph
from lineage.services import dataset_overlap_index
from tests.lineage.conftest import jsonl
from tests.lineage.truth_family import ANCESTORS, EXACT_EDGES, TRUE_EDGES, build_family, clean, edge_scores
from training.models import Benchmark
from tests.lineage.paraphrases import ITEMS

ORDERS = ["RSMEUG", "GUEMSR", "MGSREU"]  # topological, reversed, mixed


def _upload(user, family, order: str) -> dict[str, Dataset]:
    from tests.factories import ready_dataset

    made = {}
    for name in order:
        made[name] = ready_dataset(owner=user, name=f"truth-{name.lower()}", content=jsonl(clean(family.samples[name])), filename=f"{name}.jsonl")
        dataset_overlap_index(dataset_id=made[name].pk)
    return made


def _predicted(user, made) -> set[tuple[str, str]]:
    name_of = {d.pk: n for n, d in made.items()}
    return {(name_of[p], name_of[c]) for p, c in current_edges(viewer=user).filter(origin="inferred").values_list("parent_id", "child_id")}


@pytest.mark.django_db
def test_family_recovered_in_every_order(user):
    family = build_family(seed=7)
    for order in ORDERS:
        made = _upload(user, family, order)
        predicted = _predicted(user, made)
        scores = edge_scores(predicted)
        assert predicted == TRUE_EDGES, (order, scores)
        Dataset.objects.filter(pk__in=[d.pk for d in made.values()]).delete()


@pytest.mark.django_db
def test_contamination_found_by_the_right_signal_and_flows_only_down(user, settings):
    from django.core.files.base import ContentFile
    from django.core.files.storage import default_storage
    import json

    family = build_family(seed=8)
    items = [{"id": f"i{k}", "prompt": original} for k, (original, _, _) in enumerate(ITEMS)]
    name = default_storage.save("benchmarks/truth.jsonl", ContentFile("\n".join(json.dumps(i) for i in items).encode()))
    bench = Benchmark.objects.create(name="truth", slug="truth", domain="general", kind="generation", metric="exact_match", items_file=name, item_count=len(items))
    made = _upload(user, family, "GUEMSR")
    contains = family.contains()
    for key, dataset in made.items():
        finding = ContaminationFinding.objects.create(dataset=dataset, benchmark=bench, semantic_threshold=0.72)
        finding = contamination_scan_run(finding_id=finding.pk)
        flagged = {int(h.item_id[1:]): h.signal for h in finding.hits.all()}
        verbatim = {i for i, kind in contains[key].items() if kind == "verbatim"}
        light = {i for i, kind in contains[key].items() if kind == "light"}
        assert verbatim <= {i for i, s in flagged.items()}, key
        assert {i for i in verbatim} <= {int(h.item_id[1:]) for h in finding.hits.filter(signal="ngram")}, key
        assert light <= {int(h.item_id[1:]) for h in finding.hits.filter(signal="semantic")}, key
        assert set(flagged) <= set(contains[key]), (key, flagged, contains[key])  # no false positive
    graph = lineage_graph(viewer=user, slugs=[d.slug for d in made.values()], depth=3)
    name_of = {d.slug: n for n, d in made.items()}
    for node in graph["nodes"]:
        sources = {name_of[s] for s in node["inherits_contamination_from"]}
        assert sources <= ANCESTORS[name_of[node["id"]]], (node["id"], sources)
    assert {name_of[s] for s in next(n for n in graph["nodes"] if name_of[n["id"]] == "G")["inherits_contamination_from"]} == {"R", "S", "M", "U"}
    assert next(n for n in graph["nodes"] if name_of[n["id"]] == "R")["inherits_contamination_from"] == []
    assert EXACT_EDGES <= TRUE_EDGES
