"""OpenLineage 2-0-2 run events for Arena's lineage and for Arena's own runs, and optional emission over HTTP.

Two kinds of run events, both valid against https://openlineage.io/spec/2-0-2/OpenLineage.json (the test
suite validates them against the vendored spec, tests/data/openlineage/):

* ``derive:<child>``: one COMPLETE event per derived dataset; its inputs are the child's parents, **one input
  per parent** (every edge to that parent is listed in the input's ``arenaLineage`` facet).
* Arena's own runs, rebuilt from the rows that record them (so the whole history is served, and the same run
  always gets the same ``runId`` and times: a Marquez server can ingest it again without duplicates):
  ``ingest:<slug>`` (upload -> dataset), ``subset-export:<slug>`` (a filtered subset written by scoring:
  parent -> child), ``score:<slug>`` (one per scoring run) and ``train:<slug|base model>`` (one per training
  job). Each run has a START event and, once finished, COMPLETE, FAIL (with ``errorMessage``) or ABORT.

Standard facets name their exact published schema (``_schemaURL`` = the facet file of the spec plus the
``#/$defs/<Facet>`` pointer). Arena's own facets (``arenaDataset``, ``arenaLineage``, ``arenaRun``) point to
JSON schemas kept in ``lineage/openlineage_facets/`` and served by Arena at ``/openlineage/facets/1-0-0/``
under ``ARENA_PUBLIC_URL``.

With ``ARENA_OPENLINEAGE_URL`` set (e.g. ``http://marquez:5000/api/v1/lineage``), each run's events are also
POSTed as they happen: saving a dataset, scoring run or job queues its new events (after the transaction
commits) on a bounded in-process queue that one daemon thread sends, retrying with exponential backoff. The
run never waits for the endpoint; when the queue is full an event is dropped with a warning (the export API
still serves it).
"""

from __future__ import annotations

import json
import logging
import queue
import threading
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterable, Sequence
from datetime import timezone as dt_timezone
from pathlib import Path

from django.apps import apps
from django.conf import settings

logger = logging.getLogger(__name__)

NAMESPACE = "arena"
PRODUCER = "https://github.com/arena/arena/tree/main/lineage"
RUN_EVENT_SCHEMA = "https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent"
FACET_DIR = Path(__file__).resolve().parent / "openlineage_facets"
CUSTOM_FACET_VERSION = "1-0-0"
# The standard facets Arena writes, at their current published versions (spec/facets/*.json "$id").
STANDARD_FACETS = {
    "DocumentationDatasetFacet": "1-1-0",
    "DocumentationJobFacet": "1-1-0",
    "DatasetVersionDatasetFacet": "1-0-1",
    "JobTypeJobFacet": "2-0-4",
    "ErrorMessageRunFacet": "1-0-1",
}
CUSTOM_FACETS = ("ArenaDatasetFacet", "ArenaLineageInputFacet", "ArenaRunFacet")


def standard_facet(name: str, **fields) -> dict:
    url = f"https://openlineage.io/spec/facets/{STANDARD_FACETS[name]}/{name}.json#/$defs/{name}"
    return {"_producer": PRODUCER, "_schemaURL": url, **fields}


def custom_facet_url(name: str) -> str:
    if name not in CUSTOM_FACETS:
        raise KeyError(name)
    base = settings.ARENA_PUBLIC_URL.rstrip("/")
    return f"{base}/openlineage/facets/{CUSTOM_FACET_VERSION}/{name}.json#/$defs/{name}"


def custom_facet(facet_name: str, /, **fields) -> dict:
    return {"_producer": PRODUCER, "_schemaURL": custom_facet_url(facet_name), **fields}


def custom_facet_schema(name: str) -> dict:
    """The JSON schema of one of Arena's facets (served at its ``_schemaURL``)."""
    if name not in CUSTOM_FACETS:
        raise KeyError(name)
    schema = json.loads((FACET_DIR / f"{name}.json").read_text())
    schema["$id"] = custom_facet_url(name).split("#", 1)[0]
    return schema


def _time(value) -> str:
    if isinstance(value, str):
        return value
    return value.astimezone(dt_timezone.utc).isoformat().replace("+00:00", "Z")


def _run_id(kind: str, pk: int) -> str:
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"arena:{kind}:{pk}"))


def _event(*, event_type: str, event_time, run_id: str, job_name: str, job_type: str, description: str,
           inputs: list[dict], outputs: list[dict], run_facets: dict | None = None) -> dict:
    return {
        "eventType": event_type,
        "eventTime": _time(event_time),
        "producer": PRODUCER,
        "schemaURL": RUN_EVENT_SCHEMA,
        "run": {"runId": run_id, "facets": run_facets or {}},
        "job": {
            "namespace": NAMESPACE,
            "name": job_name,
            "facets": {
                "jobType": standard_facet("JobTypeJobFacet", processingType="BATCH", integration="ARENA", jobType=job_type),
                "documentation": standard_facet("DocumentationJobFacet", description=description),
            },
        },
        "inputs": inputs,
        "outputs": outputs,
    }


def dataset_facets(dataset, *, node: dict | None = None) -> dict:
    """Standard and Arena facets of a dataset (``node``: its lineage-graph node, for owner and contamination)."""
    arena = {
        "name": dataset.name,
        "owner": node["owner"] if node else dataset.owner.username,
        "visibility": dataset.visibility,
        "status": dataset.status,
        "sampleCount": dataset.sample_count,
        "domains": node["domains"] if node else sorted(d.name for d in dataset.domains.all()),
        "license": dataset.license,
        "sourceUrl": dataset.source_url,
    }
    if node is not None:
        arena["contamination"] = node["contamination"]
        arena["inheritsContaminationFrom"] = node["inherits_contamination_from"]
    facets = {
        "documentation": standard_facet("DocumentationDatasetFacet", description=dataset.description or dataset.name),
        "arenaDataset": custom_facet("ArenaDatasetFacet", **arena),
    }
    if dataset.content_hash:
        facets["version"] = standard_facet("DatasetVersionDatasetFacet", datasetVersion=dataset.content_hash)
    return facets


def _dataset_ref(dataset, *, facets: bool = True) -> dict:
    ref = {"namespace": NAMESPACE, "name": dataset.slug}
    if facets:
        ref["facets"] = dataset_facets(dataset)
    return ref


# --- lineage: one derive event per derived dataset -----------------------------------------------------


def derive_events(*, graph: dict, datasets: dict) -> list[dict]:
    """COMPLETE events ``derive:<child>`` for the edges of ``graph`` (``lineage.selectors.lineage_graph``);
    ``datasets`` maps each node's slug to its Dataset. One input per parent, its edges in ``arenaLineage``."""
    node_by_slug = {n["id"]: n for n in graph["nodes"]}
    by_child: dict[str, list[dict]] = {}
    for edge in graph["edges"]:
        by_child.setdefault(edge["child"], []).append(edge)
    events = []
    for child_slug in sorted(by_child):
        edges = sorted(by_child[child_slug], key=lambda e: (e["parent"], e["origin"], e["id"]))
        child = datasets[child_slug]
        run_id = uuid.uuid5(uuid.NAMESPACE_URL, f"arena-lineage:{child.pk}:" + ",".join(str(e["id"]) for e in edges))
        by_parent: dict[str, list[dict]] = {}
        for edge in edges:
            by_parent.setdefault(edge["parent"], []).append(edge)
        inputs = [
            {
                "namespace": NAMESPACE,
                "name": parent,
                "facets": dataset_facets(datasets[parent], node=node_by_slug[parent]),
                "inputFacets": {
                    "arenaLineage": custom_facet(
                        "ArenaLineageInputFacet",
                        edges=[
                            {
                                "relation": e["relation"],
                                "origin": e["origin"],
                                "confidence": e["confidence"],
                                "evidence": e["evidence"],
                                "details": e["details"],
                            }
                            for e in parent_edges
                        ],
                    )
                },
            }
            for parent, parent_edges in sorted(by_parent.items())
        ]
        event = _event(
            event_type="COMPLETE",
            event_time=max(e["created_at"] for e in edges),
            run_id=str(run_id),
            job_name=f"derive:{child_slug}",
            job_type="DERIVE",
            description=f"{child_slug} derived from {', '.join(sorted(by_parent))}",
            inputs=inputs,
            outputs=[{"namespace": NAMESPACE, "name": child_slug,
                      "facets": dataset_facets(child, node=node_by_slug[child_slug])}],
        )
        events.append(event)
    return events


# --- Arena's own runs ------------------------------------------------------------------------------------

_END = {"succeeded": "COMPLETE", "ready": "COMPLETE", "failed": "FAIL", "cancelled": "ABORT"}


def _run_events(*, kind: str, pk: int, job_name: str, job_type: str, description: str, status: str, started,
                finished, error: str, inputs: list[dict], outputs: list[dict], details: dict) -> list[dict]:
    run_id = _run_id(kind, pk)
    arena_run = custom_facet("ArenaRunFacet", kind=kind, objectId=pk, status=status, details=details)
    common = dict(run_id=run_id, job_name=job_name, job_type=job_type, description=description, inputs=inputs)
    events = [_event(event_type="START", event_time=started, outputs=[], run_facets={"arenaRun": arena_run}, **common)]
    end = _END.get(status)
    if end is not None and finished is not None:
        facets = {"arenaRun": arena_run}
        if end == "FAIL":
            facets["errorMessage"] = standard_facet(
                "ErrorMessageRunFacet", message=error or "failed", programmingLanguage="python"
            )
        events.append(_event(event_type=end, event_time=finished, outputs=outputs if end == "COMPLETE" else [],
                             run_facets=facets, **common))
    return events


def _subset_parent(dataset):
    """The parent a scoring subset export wrote ``dataset`` from, or None (an ordinary upload)."""
    edge_model = apps.get_model("lineage", "LineageEdge")
    edge = (
        edge_model.objects.filter(child=dataset, relation="subset", origin="declared", details__has_key="scoring_run")
        .select_related("parent")
        .order_by("created_at", "id")
        .first()
    )
    return edge.parent if edge is not None else None


def dataset_run_events(dataset) -> list[dict]:
    """The ingest (or, for a filtered subset, subset-export) run that produced ``dataset``."""
    parent = _subset_parent(dataset)
    kind = "subset-export" if parent is not None else "ingest"
    finished = dataset.ingested_at or (dataset.updated_at if dataset.status == "failed" else None)
    return _run_events(
        kind=kind, pk=dataset.pk, job_name=f"{kind}:{dataset.slug}", job_type="SUBSET_EXPORT" if parent else "INGEST",
        description=(f"filtered subset of {parent.slug} written by scoring" if parent
                     else f"ingest of {dataset.original_filename or 'an upload'} into {dataset.slug}"),
        status=dataset.status, started=dataset.created_at, finished=finished, error=dataset.error,
        inputs=[_dataset_ref(parent)] if parent is not None else [], outputs=[_dataset_ref(dataset)],
        details={"originalFilename": dataset.original_filename, "fileFormat": dataset.file_format,
                 "sampleFormat": dataset.sample_format, "policy": dataset.ingest_policy},
    )


def scoring_run_events(run) -> list[dict]:
    dataset = run.dataset
    return _run_events(
        kind="score", pk=run.pk, job_name=f"score:{dataset.slug}", job_type="SCORING",
        description=f"scoring of {dataset.slug}", status=run.status, started=run.started_at or run.created_at,
        finished=run.finished_at, error=run.error, inputs=[_dataset_ref(dataset)],
        outputs=[{"namespace": NAMESPACE, "name": f"{dataset.slug}/scores/run-{run.pk}"}],
        details={"scorers": list(run.scorers), "rows": run.rows_total},
    )


def job_run_events(job) -> list[dict]:
    subject = job.dataset.slug if job.dataset_id else f"base:{job.base_model.slug}"
    return _run_events(
        kind="train", pk=job.pk, job_name=f"train:{subject}", job_type="TRAINING",
        description=f"fine-tune {job.base_model.slug} on {subject} and evaluate" if job.dataset_id
        else f"evaluate base model {job.base_model.slug}",
        status=job.status, started=job.started_at or job.created_at, finished=job.finished_at, error=job.error,
        inputs=[_dataset_ref(job.dataset)] if job.dataset_id else [],
        outputs=[{"namespace": NAMESPACE, "name": f"job-{job.pk}-results"}],
        details={"baseModel": job.base_model.slug, "recipe": job.recipe.slug if job.recipe_id else None,
                 "seed": job.seed, "configHash": job.config_hash},
    )


def arena_run_events(*, datasets: Iterable) -> list[dict]:
    """Every recorded run of Arena's that touches ``datasets``: their ingests (or subset exports), scoring
    runs and training jobs, in event-time order."""
    datasets = list(datasets)
    ids = [d.pk for d in datasets]
    events = [e for d in datasets for e in dataset_run_events(d)]
    scoring_run = apps.get_model("scoring", "ScoringRun")
    for run in scoring_run.objects.filter(dataset_id__in=ids).select_related("dataset__owner").order_by("id"):
        events += scoring_run_events(run)
    job_model = apps.get_model("training", "Job")
    for job in job_model.objects.filter(dataset_id__in=ids).select_related("dataset__owner", "base_model", "recipe").order_by("id"):
        events += job_run_events(job)
    return sorted(events, key=lambda e: (e["eventTime"], e["job"]["name"], e["eventType"] != "START"))


def lineage_openlineage_events(*, viewer, slugs: Sequence[str], depth=2) -> list[dict]:
    """The targets' visible subgraph as OpenLineage events: the derive events of its edges, then the runs
    (ingest, subset export, scoring, training) of its datasets."""
    from arena.selectors import dataset_visible_queryset
    from lineage.selectors import lineage_graph

    graph = lineage_graph(viewer=viewer, slugs=slugs, depth=depth)
    node_slugs = [n["id"] for n in graph["nodes"]]
    datasets = {
        d.slug: d
        for d in dataset_visible_queryset(viewer=viewer).filter(slug__in=node_slugs).select_related("owner").prefetch_related("domains")
    }
    return derive_events(graph=graph, datasets=datasets) + arena_run_events(datasets=[datasets[s] for s in sorted(datasets)])


# --- optional emission over HTTP ----------------------------------------------------------------------

_QUEUE_SIZE = 1000
_queue: queue.Queue | None = None
_lock = threading.Lock()


def _sender() -> None:
    assert _queue is not None
    while True:
        url, event = _queue.get()
        try:
            _post_with_retries(url, event)
        finally:
            _queue.task_done()


def _post_with_retries(url: str, event: dict) -> bool:
    body = json.dumps(event).encode()
    attempts = max(1, settings.ARENA_OPENLINEAGE_RETRIES)
    for attempt in range(1, attempts + 1):
        request = urllib.request.Request(url, data=body, method="POST", headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=settings.ARENA_OPENLINEAGE_TIMEOUT) as response:
                if 200 <= response.status < 300:
                    return True
        except (urllib.error.URLError, OSError, ValueError) as exc:
            problem = exc
        else:
            problem = f"HTTP {response.status}"
        if attempt < attempts:
            time.sleep(min(settings.ARENA_OPENLINEAGE_RETRY_DELAY * 2 ** (attempt - 1), 60))
    logger.warning("OpenLineage event %s/%s not delivered to %s after %d attempts: %s",
                   event["job"]["name"], event["eventType"], url, attempts, problem)
    return False


def emit(events: Iterable[dict]) -> int:
    """Queue ``events`` for the sender thread (never blocks); returns how many were queued."""
    global _queue
    url = settings.ARENA_OPENLINEAGE_URL
    if not url:
        return 0
    with _lock:
        if _queue is None:
            _queue = queue.Queue(maxsize=_QUEUE_SIZE)
            threading.Thread(target=_sender, name="openlineage-sender", daemon=True).start()
    queued = 0
    for event in events:
        try:
            _queue.put_nowait((url, event))
            queued += 1
        except queue.Full:
            logger.warning("OpenLineage queue full: event %s/%s dropped (still served by the export API)",
                           event["job"]["name"], event["eventType"])
    return queued


def wait_sent(timeout: float = 10.0) -> bool:
    """Wait until the sender thread has handled every queued event (tests, shutdown); True when done."""
    deadline = time.monotonic() + timeout
    while _queue is not None and _queue.unfinished_tasks:
        if time.monotonic() > deadline:
            return False
        time.sleep(0.02)
    return True


def _new_events(events: list[dict]) -> list[dict]:
    """The events not emitted before (one cache entry per run and event type, shared by every process)."""
    from django.core.cache import cache

    return [e for e in events if cache.add(f"openlineage:sent:{e['run']['runId']}:{e['eventType']}", 1, timeout=None)]


def on_saved(sender, instance, **kwargs) -> None:
    """post_save of a dataset, scoring run or job: once committed, emit the run events not emitted yet."""
    if not settings.ARENA_OPENLINEAGE_URL:
        return
    update_fields = kwargs.get("update_fields")
    if update_fields is not None and not {"status", "started_at", "finished_at", "ingested_at"} & set(update_fields):
        return  # a heartbeat or progress write: no run transition
    from django.db import transaction

    builders = {"Dataset": dataset_run_events, "ScoringRun": scoring_run_events, "Job": job_run_events}
    build = builders[sender.__name__]
    pk, model = instance.pk, sender

    def send() -> None:
        try:
            obj = model.objects.filter(pk=pk).first()
            if obj is not None:
                emit(_new_events(build(obj)))
        except Exception:  # emission must never break the run that saved the row
            logger.exception("OpenLineage events for %s %s not built", sender.__name__, pk)

    transaction.on_commit(send)


def connect_signals() -> None:
    from django.db.models.signals import post_save

    for label in ("arena.Dataset", "scoring.ScoringRun", "training.Job"):
        post_save.connect(on_saved, sender=apps.get_model(label), dispatch_uid=f"openlineage:{label}")
