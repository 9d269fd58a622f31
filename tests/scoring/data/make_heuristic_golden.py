"""Golden raw scores of every sample-scope heuristic scorer, from the code BEFORE the speed work (commit a66f3a8)."""
import gzip, json, os, sys
sys.path.insert(0, "."); sys.path.insert(0, "bench/comparisons")
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "arena.settings")
import django; django.setup()
from _sharegpt_like import sharegpt_like
from scoring.scorers.base import scorer_classes, build_scorer, SampleText
EDGE = [
    "", " ", "\n\t ", "a", "ſince İf ıf K ﬁrst ǅ the", "So that is it. so that is", "on  the\nother\u00a0hand, as a result",
    "IF THEN Because; however:first,second...THIRD", "the1 _if_ if_ _because because_ 2because", "Привет мир, как дела? і ї",
    "机器学习模型需要大量的数据来训练。", "このモデルは質問に答える", "Καλημέρα κόσμε", "مرحبا بالعالم", "שלום עולם",
    "नमस्ते दुनिया", "สวัสดีชาวโลก", "안녕하세요 세계", "café à la crème, le chat est là", "😀 emoji 🚀 rockets ✨",
    "<think>only thinking</think>", "<THINKING>open never closed", "```python\ndef f(:\n```", "```\nimport os\n```",
    "a " * 60, "word " * 3 + "other " * 80, "x" * 3000, "e\u0301clair nai\u0308ve", "Straße STRASSE strasse",
    "it follows that it follows that", "for\texample for instance in other words", "which means that is provided that",
    "Der Hund und die Katze sind nicht hier. Het is een mooie dag en de zon schijnt.", "El perro y el gato están en la casa.",
    "\u212a\u212b Kelvin Ångström", "1234567890 !!!??? ...", "don't won't it's O'Neil table whale", "Mr. Smith went. Then? Yes!",
]
data = sharegpt_like(150, seed=7)
pairs = [(d["instruction"], d["response"]) for d in data]
pairs += [(e, e) for e in EDGE] + [("", e) for e in EDGE] + [(e, "") for e in EDGE[:10]]
names = [n for n, c in scorer_classes().items() if not c.meta.needs_model and c.meta.scope == "sample" and not n.startswith("test_")]
configs = {n: [None] for n in names}
configs["language_match"] = [None, {"language": "fr"}, {"language": "zh"}, {"language": "ru"}]
for n in ("repetition", "unique_ngram_ratio", "ngram_entropy"):
    configs[n] = [None, {"n": 1}, {"n": 3}]
configs["mtld"] = [None, {"threshold": 0.5}]
samples = [SampleText(idx=i, instruction=q, response=r) for i, (q, r) in enumerate(pairs)]
scores = {}
for n in names:
    for cfg in configs[n]:
        key = n + ("" if cfg is None else json.dumps(cfg, sort_keys=True))
        scores[key] = {"scorer": n, "config": cfg, "raw": build_scorer(n, config=cfg).score_batch(samples)}
with gzip.open("tests/scoring/data/heuristic_golden.json.gz", "wt", encoding="utf-8") as f:
    json.dump({"made_by": "code at a66f3a8 (before the heuristic speed work)", "samples": pairs, "scores": scores}, f)
print(len(pairs), "samples", len(scores), "scorer configs")
