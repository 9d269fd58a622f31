"""Ground truth for inferred lineage and contamination: a family with a known genealogy (root; subset;
subset + new samples; edited copy of the root; unrelated; merge of the mix and the unrelated set), in
generated realistic text with varied sizes and edit rates, uploaded through the real registry and indexed
after each upload, in a sample of the 720 upload orders. Prints edge precision/recall, direction accuracy
(all edges, and exact subsets/mixtures alone), contamination precision/recall per kind (verbatim,
light and heavy paraphrase), and checks that contamination only flows from ancestors to descendants.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/arena_lineage_bench \\
        .venv/bin/python bench/bench_lineage_truth.py --orders 12
    .venv/bin/python bench/bench_lineage_truth.py --calibrate     # the semantic threshold's paraphrase set only
"""
from __future__ import annotations

import argparse
import itertools
import json
import os
import random
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
_STORAGE = tempfile.mkdtemp(prefix="arena-bench-truth-")
os.environ.setdefault("ARENA_STORAGE", os.path.join(_STORAGE, "storage"))
os.environ.setdefault("ARENA_TMP_DIR", os.path.join(_STORAGE, "tmp"))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "arena.settings")

import django  # noqa: E402

django.setup()

import numpy as np  # noqa: E402


def calibrate() -> float:
    """Nearest-item cosine of each light/heavy paraphrase and each same-domain non-paraphrase; recall and false
    positives at the shipped threshold, and a two-fold check (threshold chosen on one half, scored on the other)."""
    from lineage.semantic import SEMANTIC_THRESHOLD, semantic_index
    from tests.lineage.paraphrases import ITEMS, NEGATIVES

    index = semantic_index(prompts=[o for o, _, _ in ITEMS])
    light, heavy, neg = (index.similarities(t) for t in ([x[1] for x in ITEMS], [x[2] for x in ITEMS], NEGATIVES))
    right = np.arange(len(ITEMS))

    def scores(t: float, rows=slice(None)) -> tuple[float, float, float]:
        lr = ((light.argmax(1) == right) & (light.max(1) >= t))[rows].mean()
        hr = ((heavy.argmax(1) == right) & (heavy.max(1) >= t))[rows].mean()
        return lr, hr, (neg.max(1) >= t).mean()

    lr, hr, fp = scores(SEMANTIC_THRESHOLD)
    print(f"semantic threshold {SEMANTIC_THRESHOLD} (MiniLM, nearest item): light recall {lr:.2f}, heavy recall {hr:.2f}, "
          f"false positives {fp:.2f} ({int(round(fp * len(NEGATIVES)))}/{len(NEGATIVES)} same-domain non-paraphrases)")
    half = len(ITEMS) // 2
    for fit, test in ((slice(0, half), slice(half, None)), (slice(half, None), slice(0, half))):
        grid = np.arange(0.60, 0.90, 0.01)
        best = max(grid, key=lambda t: scores(t, fit)[1] - 2 * scores(t, fit)[2])
        lr, hr, fp = scores(best, test)
        print(f"  two-fold: threshold {best:.2f} fitted on one half -> other half light {lr:.2f}, heavy {hr:.2f}, fp {fp:.2f}")
    return SEMANTIC_THRESHOLD


def run_orders(n_orders: int, seed: int) -> None:
    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.core.files.base import ContentFile
    from django.core.files.storage import default_storage
    from django.core.management import call_command

    from arena.models import Dataset
    from lineage.contamination_services import contamination_scan_run
    from lineage.models import ContaminationFinding
    from lineage.selectors import current_edges, lineage_graph
    from lineage.semantic import SEMANTIC_THRESHOLD
    from lineage.services import dataset_overlap_index
    from tests.factories import ready_dataset
    from tests.lineage.conftest import jsonl
    from tests.lineage.paraphrases import ITEMS
    from tests.lineage.truth_family import ANCESTORS, build_family, clean, edge_scores
    from training.models import Benchmark

    if "postgresql" not in settings.DATABASES["default"]["ENGINE"]:
        sys.exit("set DATABASE_URL to a PostgreSQL database (e.g. postgres://postgres@127.0.0.1:5432/arena_lineage_bench)")
    call_command("migrate", verbosity=0)
    owner, _ = get_user_model().objects.get_or_create(username="bench-truth")
    Dataset.objects.filter(owner=owner).delete()
    items = [{"id": f"i{k}", "prompt": original} for k, (original, _, _) in enumerate(ITEMS)]
    name = default_storage.save("benchmarks/bench-truth.jsonl", ContentFile("\n".join(json.dumps(i) for i in items).encode()))
    bench, _ = Benchmark.objects.update_or_create(
        slug="bench-truth", defaults=dict(name="bench-truth", domain="general", kind="generation", metric="exact_match", items_file=name, item_count=len(items))
    )
    rng = random.Random(seed)
    orders = rng.sample(list(itertools.permutations("RSMEUG")), n_orders)
    totals = {"tp": 0, "pred": 0, "true": 0, "dir_right": 0, "dir_all": 0, "exact_right": 0, "exact_all": 0}
    contamination = {kind: {"tp": 0, "fp": 0, "fn": 0} for kind in ("verbatim", "light", "heavy")}
    false_flags = upward = 0
    for k, order in enumerate(orders):
        config = dict(root=rng.randint(150, 400), subset_share=rng.uniform(0.25, 0.45), light_edit=rng.uniform(0.1, 0.4),
                      rewrite=rng.uniform(0.0, 0.15), unrelated=rng.randint(60, 250))
        config["new_in_mix"] = rng.randint(20, int(config["root"] * (1 - config["subset_share"]) * 0.8))
        family = build_family(seed=seed * 1000 + k, **config)
        made = {}
        for key in order:
            made[key] = ready_dataset(owner=owner, name=f"truth-{k}-{key.lower()}", content=jsonl(clean(family.samples[key])), filename=f"{key}.jsonl")
            dataset_overlap_index(dataset_id=made[key].pk)
        name_of = {d.pk: n for n, d in made.items()}
        predicted = {(name_of[p], name_of[c]) for p, c in current_edges(viewer=owner).filter(origin="inferred", child__in=made.values()).values_list("parent_id", "child_id")}
        s = edge_scores(predicted)
        n_pred = len({frozenset(e) for e in predicted})
        totals["pred"] += n_pred
        totals["tp"] += round(s["precision"] * n_pred)
        totals["true"] += 5
        found = 5 - len(s["missing"])
        totals["dir_all"] += found
        totals["dir_right"] += found - len(s["reversed"])
        exact_found = [e for e in (("R", "S"), ("S", "M"), ("M", "G"), ("U", "G")) if frozenset(e) in {frozenset(p) for p in predicted}]
        totals["exact_all"] += len(exact_found)
        totals["exact_right"] += sum(1 for e in exact_found if e in predicted)
        contains = family.contains()
        for key, dataset in made.items():
            finding = contamination_scan_run(finding_id=ContaminationFinding.objects.create(dataset=dataset, benchmark=bench, semantic_threshold=SEMANTIC_THRESHOLD).pk)
            flagged = {int(h.item_id[1:]) for h in finding.hits.all()}
            for item, kind in contains[key].items():
                contamination[kind]["tp" if item in flagged else "fn"] += 1
            false_flags += len(flagged - set(contains[key]))
        graph = lineage_graph(viewer=owner, slugs=[d.slug for d in made.values()], depth=5)
        slug_name = {d.slug: n for n, d in made.items()}
        for node in graph["nodes"]:
            upward += len({slug_name[s] for s in node["inherits_contamination_from"]} - ANCESTORS[slug_name[node["id"]]])
        print(f"order {''.join(order)} sizes R{config['root']} S{len(family.samples['S'])} M{len(family.samples['M'])} "
              f"U{config['unrelated']} edits {config['light_edit']:.2f}/{config['rewrite']:.2f}: precision {s['precision']:.2f} "
              f"recall {s['recall']:.2f} direction {s['direction']:.2f} spurious {s['spurious']} missing {s['missing']} reversed {s['reversed']}", flush=True)
        Dataset.objects.filter(pk__in=[d.pk for d in made.values()]).delete()
    print(f"\n{n_orders} upload orders of 720:")
    print(f"  edges: precision {totals['tp'] / max(totals['pred'], 1):.3f}, recall {totals['tp'] / totals['true']:.3f}, "
          f"direction {totals['dir_right'] / max(totals['dir_all'], 1):.3f} (exact subsets/mixtures: "
          f"{totals['exact_right'] / max(totals['exact_all'], 1):.3f}; targets 0.95 / 0.95 / 1.00)")
    for kind, c in contamination.items():
        print(f"  contamination {kind:8s}: recall {c['tp'] / max(c['tp'] + c['fn'], 1):.3f} ({c['tp']}/{c['tp'] + c['fn']} dataset x item)")
    flagged_total = sum(c["tp"] for c in contamination.values()) + false_flags
    print(f"  contamination precision {sum(c['tp'] for c in contamination.values()) / max(flagged_total, 1):.3f} "
          f"({false_flags} false flags); inherited from a non-ancestor: {upward}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--orders", type=int, default=12, help="upload orders sampled from the 720")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--calibrate", action="store_true", help="only the semantic threshold's paraphrase set")
    args = parser.parse_args()
    calibrate()
    if not args.calibrate:
        run_orders(args.orders, args.seed)


if __name__ == "__main__":
    main()
