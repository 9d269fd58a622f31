"""A dataset family with a known genealogy, in realistic (generated) instruction/response text, for the
ground-truth test and ``bench/bench_lineage_truth.py``.

root R; subset S of R; mix M = S + new samples; edited copy E of R (some samples lightly edited, some
rewritten); unrelated U; merge G = M + U. Benchmark items are planted verbatim in R (so also in S, M, G and
E) and as paraphrases in U (so also in G).
"""
from __future__ import annotations

import random
from dataclasses import dataclass, field

from tests.lineage.paraphrases import ITEMS

TRUE_EDGES = {("R", "S"), ("S", "M"), ("M", "G"), ("U", "G"), ("R", "E")}
EXACT_EDGES = {("R", "S"), ("S", "M"), ("M", "G"), ("U", "G")}  # exact subsets and mixtures
ANCESTORS = {"R": set(), "S": {"R"}, "M": {"R", "S"}, "E": {"R"}, "U": set(), "G": {"R", "S", "M", "U"}}

_TOPICS = ["a small bakery", "a city library", "a hiking trip", "a home garden", "a chess club", "a bicycle repair",
           "a school science fair", "a family budget", "a weekend market", "a community choir", "an online course",
           "a football team", "a coffee roaster", "a museum tour", "a recycling plan", "a mobile app launch"]
_ASKS = ["How should I plan {t} so that it stays within {n} dollars?", "Write a short guide about {t} for beginners, in {n} steps.",
         "What are the most common mistakes people make with {t}, and how can I avoid them?",
         "Give me {n} practical ideas to improve {t} this month.", "Explain to a twelve year old how {t} works.",
         "Draft a friendly email inviting {n} neighbours to help with {t}.", "Compare two ways of organising {t} and recommend one."]
_SENT = ["Start by listing what you already have and what is missing.", "Set a realistic deadline and share it early.",
         "Ask for feedback from people who have done this before.", "Keep a simple notebook of costs and decisions.",
         "Split the work into small tasks that fit in one evening.", "Check the weather and local rules before you commit.",
         "Reuse materials where you can; it saves money and time.", "Celebrate small wins so the group stays motivated.",
         "Write down who is responsible for each part.", "Leave a margin of about ten percent for surprises.",
         "Test the idea on a small scale before going big.", "Photograph the result so you can compare next time.",
         "Avoid buying specialised tools until you know you need them.", "Invite newcomers and pair them with a regular.",
         "Review the plan after the first week and adjust it honestly."]
_SYN = {"plan": "prepare", "common": "frequent", "practical": "useful", "friendly": "warm", "ways": "methods",
        "small": "little", "simple": "basic", "early": "soon", "honestly": "frankly", "money": "cash"}


def _sample(rng: random.Random, i: int, tag: str) -> dict:
    topic = rng.choice(_TOPICS)
    ask = rng.choice(_ASKS).format(t=topic, n=rng.randint(2, 90))
    n_sent = rng.randint(3, 9)
    answer = " ".join(rng.sample(_SENT, n_sent)) + f" (note {tag}-{i}: {rng.randint(100, 99999)} {rng.choice(_TOPICS)})"
    return {"id": f"{tag}-{i}", "instruction": ask, "output": answer}


def _light_edit(rng: random.Random, sample: dict) -> dict:
    words = sample["output"].split(" ")
    for _ in range(2):
        k = rng.randrange(len(words))
        words[k] = _SYN.get(words[k], words[k] + "s")
    return dict(sample, output=" ".join(words))


def _rewrite(rng: random.Random, sample: dict) -> dict:
    return dict(sample, output=" ".join(rng.sample(_SENT, 6)) + f" (rewritten {rng.randint(0, 10**9)})")


@dataclass
class Family:
    samples: dict[str, list[dict]]
    verbatim_items: list[int] = field(default_factory=list)  # positions in ITEMS planted verbatim (in R)
    light_items: list[int] = field(default_factory=list)  # planted as light paraphrases (in U)
    heavy_items: list[int] = field(default_factory=list)  # planted as heavy paraphrases (in U)

    def contains(self) -> dict[str, dict[int, str]]:
        """{dataset: {item: "verbatim"|"light"|"heavy"}} actually present in each dataset."""
        out: dict[str, dict[int, str]] = {}
        for name, samples in self.samples.items():
            found = {}
            for s in samples:
                kind, item = s.get("_planted", (None, None))
                if kind:
                    found[item] = kind
            out[name] = found
        return out


def build_family(*, seed: int, root: int = 200, subset_share: float = 0.35, new_in_mix: int = 60, light_edit: float = 0.3,
                 rewrite: float = 0.1, unrelated: int = 120, n_verbatim: int = 3, n_light: int = 3, n_heavy: int = 3) -> Family:
    rng = random.Random(seed)
    r = [_sample(rng, i, f"r{seed}") for i in range(root)]
    picks = rng.sample(range(len(ITEMS)), n_verbatim + n_light + n_heavy)
    verbatim, light, heavy = picks[:n_verbatim], picks[n_verbatim : n_verbatim + n_light], picks[n_verbatim + n_light :]
    for k, item in enumerate(verbatim):  # planted in R samples that S keeps
        r[k] = dict(r[k], instruction="Please solve: " + ITEMS[item][0], _planted=("verbatim", item))
    s_idx = sorted(set(range(n_verbatim)) | set(rng.sample(range(n_verbatim, root), int(root * subset_share) - n_verbatim)))
    s = [r[i] for i in s_idx]
    m = s + [_sample(rng, i, f"m{seed}") for i in range(new_in_mix)]
    e = []
    for i, sample in enumerate(r):
        roll = rng.random()
        if i < n_verbatim or roll >= light_edit + rewrite:
            e.append(sample)
        elif roll < light_edit:
            e.append(_light_edit(rng, sample))
        else:
            e.append(_rewrite(rng, sample))
    u = [_sample(rng, i, f"u{seed}") for i in range(unrelated)]
    for k, item in enumerate(light):
        u[k] = dict(u[k], instruction=ITEMS[item][1], _planted=("light", item))
    for k, item in enumerate(heavy, start=len(light)):
        u[k] = dict(u[k], instruction=ITEMS[item][2], _planted=("heavy", item))
    g = m + u
    rng.shuffle(g)
    return Family(samples={"R": r, "S": s, "M": m, "E": e, "U": u, "G": g}, verbatim_items=verbatim, light_items=light, heavy_items=heavy)


def clean(samples: list[dict]) -> list[dict]:
    return [{k: v for k, v in s.items() if not k.startswith("_")} for s in samples]


def edge_scores(predicted: set[tuple[str, str]]) -> dict:
    """Precision and recall of predicted edges (as unordered pairs) and direction accuracy of the true ones found."""
    true_pairs = {frozenset(e) for e in TRUE_EDGES}
    pred_pairs = {frozenset(e) for e in predicted}
    found = true_pairs & pred_pairs
    directed = {e for e in TRUE_EDGES if frozenset(e) in pred_pairs}
    right = {e for e in directed if e in predicted}
    exact = {e for e in directed if e in EXACT_EDGES}
    return {
        "precision": len(found) / len(pred_pairs) if pred_pairs else 1.0,
        "recall": len(found) / len(true_pairs),
        "direction": len(right) / len(directed) if directed else 1.0,
        "direction_exact": len(exact & predicted) / len(exact) if exact else 1.0,
        "spurious": sorted(tuple(sorted(p)) for p in pred_pairs - true_pairs),
        "missing": sorted(tuple(sorted(p)) for p in true_pairs - pred_pairs),
        "reversed": sorted(e for e in directed if e not in predicted),
    }
