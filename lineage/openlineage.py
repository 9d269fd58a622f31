"""OpenLineage export of the viewer's visible lineage subgraph (one COMPLETE run event per derived dataset)."""
from __future__ import annotations

from collections.abc import Sequence

from arena.permissions import dataset_visible_queryset
from lineage.selectors import lineage_graph


OPENLINEAGE_NAMESPACE = "arena"


OPENLINEAGE_PRODUCER = "https://github.com/arena/arena/tree/main/lineage"


OPENLINEAGE_RUN_SCHEMA = "https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent"


_FACET_SCHEMA = "https://openlineage.io/spec/facets/1-0-0/{}.json"


def _facet(name: str, **fields) -> dict:
    return {"_producer": OPENLINEAGE_PRODUCER, "_schemaURL": _FACET_SCHEMA.format(name), **fields}


def lineage_openlineage_events(*, viewer, slugs: Sequence[str], depth=2) -> list[dict]:
    """OpenLineage-style COMPLETE run events for the targets' visible subgraph: one event per derived
    dataset, whose job ``derive:<slug>`` read its parents (inputs) and wrote it (output). Edge metadata
    (relation, origin, confidence, evidence) is an ``arenaLineage`` input facet. Deterministic run ids."""
    import uuid


    graph = lineage_graph(viewer=viewer, slugs=slugs, depth=depth)
    node_by_slug = {n["id"]: n for n in graph["nodes"]}
    datasets = {
        d.slug: d for d in dataset_visible_queryset(viewer=viewer).filter(slug__in=node_by_slug).prefetch_related("domains")
    }
    by_child: dict[str, list[dict]] = {}
    for edge in graph["edges"]:
        by_child.setdefault(edge["child"], []).append(edge)

    def dataset_facets(slug: str) -> dict:
        d = datasets[slug]
        facets = {
            "documentation": _facet("DocumentationDatasetFacet", description=d.description or d.name),
            "arenaDataset": {
                "_producer": OPENLINEAGE_PRODUCER,
                "_schemaURL": OPENLINEAGE_PRODUCER + "/arena-dataset-facet.json",
                "name": d.name,
                "owner": node_by_slug[slug]["owner"],
                "visibility": d.visibility,
                "sampleCount": d.sample_count,
                "domains": node_by_slug[slug]["domains"],
                "license": d.license,
                "contamination": node_by_slug[slug]["contamination"],
                "inheritsContaminationFrom": node_by_slug[slug]["inherits_contamination_from"],
            },
        }
        if d.content_hash:
            facets["version"] = _facet("DatasetVersionDatasetFacet", datasetVersion=d.content_hash)
        if d.source_url:
            facets["sourceUrl"] = {"_producer": OPENLINEAGE_PRODUCER, "_schemaURL": OPENLINEAGE_PRODUCER, "url": d.source_url}
        return facets

    events = []
    for child_slug in sorted(by_child):
        edges = sorted(by_child[child_slug], key=lambda e: (e["parent"], e["origin"]))
        child = datasets[child_slug]
        run_id = uuid.uuid5(uuid.NAMESPACE_URL, f"arena-lineage:{child.pk}:" + ",".join(str(e["id"]) for e in edges))
        events.append(
            {
                "eventType": "COMPLETE",
                "eventTime": max(e["created_at"] for e in edges),
                "producer": OPENLINEAGE_PRODUCER,
                "schemaURL": OPENLINEAGE_RUN_SCHEMA,
                "run": {"runId": str(run_id), "facets": {}},
                "job": {
                    "namespace": OPENLINEAGE_NAMESPACE,
                    "name": f"derive:{child_slug}",
                    "facets": {
                        "documentation": _facet(
                            "DocumentationJobFacet",
                            description=f"{child_slug} derived from {', '.join(sorted({e['parent'] for e in edges}))}",
                        )
                    },
                },
                "inputs": [
                    {
                        "namespace": OPENLINEAGE_NAMESPACE,
                        "name": e["parent"],
                        "facets": dataset_facets(e["parent"]),
                        "inputFacets": {
                            "arenaLineage": {
                                "_producer": OPENLINEAGE_PRODUCER,
                                "_schemaURL": OPENLINEAGE_PRODUCER + "/arena-lineage-facet.json",
                                "relation": e["relation"],
                                "origin": e["origin"],
                                "confidence": e["confidence"],
                                "evidence": e["evidence"],
                                "details": e["details"],
                            }
                        },
                    }
                    for e in edges
                ],
                "outputs": [{"namespace": OPENLINEAGE_NAMESPACE, "name": child_slug, "facets": dataset_facets(child_slug)}],
            }
        )
    return events
