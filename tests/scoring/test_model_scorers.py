"""Perplexity / IFD scorers on a tiny random Llama, and the embedding (kNN, near-duplicate) scorers on MiniLM.

The reference values are computed here independently with plain transformers: one unbatched forward pass over
the full sequence and a manual NLL over the answer tokens.
"""
from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from transformers import AutoModelForCausalLM, AutoTokenizer

from arena.errors import InvalidInput
from arena.model_loading.loaders import embed_texts, load_causal_lm, load_sentence_embedder
from arena.model_loading.device import resolve_device
from scoring.scorers.base import SampleText, build_scorer
from scoring.scorers.embedding import nearest_similarities
from scoring.scorers.perplexity import clear_loss_cache, prompt_ids, scored_sequence
from tests.scoring.model_fixtures import copy_without_config, minilm_path, tiny_lm_dir, tiny_plain_lm_dir  # noqa: F401

SAMPLES = [
    SampleText(idx=0, instruction="What is 12 times 7?", response="12 times 7 is 84."),
    SampleText(idx=1, instruction="Write a haiku about the sea.", response="Waves fold into foam,\nsalt on stones."),
    SampleText(idx=2, instruction="List three primes.", response="2, 3, 5", system="Answer tersely."),
    SampleText(
        idx=3,
        instruction="Explain recursion to a child, with an example from everyday life please.",
        response="A recursive function calls itself on a smaller piece of the problem until the piece is tiny.",
    ),
]


@pytest.fixture(autouse=True)
def _fresh_loss_cache():
    clear_loss_cache()
    yield
    clear_loss_cache()


def reference_answer_nll(*, model_dir, sample: SampleText, with_question: bool) -> float:
    """Mean NLL of the answer tokens, from one forward pass with plain transformers."""
    tokenizer = AutoTokenizer.from_pretrained(str(model_dir))
    model = AutoModelForCausalLM.from_pretrained(str(model_dir), dtype=torch.float32).eval()
    answer = tokenizer(sample.response, add_special_tokens=False)["input_ids"]
    if not with_question:
        context = [tokenizer.bos_token_id]
    elif tokenizer.chat_template:
        messages = ([{"role": "system", "content": sample.system}] if sample.system else []) + [
            {"role": "user", "content": sample.instruction}
        ]
        text = tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
        context = tokenizer(text, add_special_tokens=False)["input_ids"]
    else:
        text = "\n\n".join(p for p in (sample.system, sample.instruction) if p) + "\n\n"
        context = [tokenizer.bos_token_id] + tokenizer(text, add_special_tokens=False)["input_ids"]
    ids = torch.tensor([context + answer])
    with torch.no_grad():
        logits = model(input_ids=ids).logits[0].double()
    logprobs = torch.log_softmax(logits, dim=-1)
    nll = [-float(logprobs[pos - 1, ids[0, pos]]) for pos in range(len(context), ids.shape[1])]
    return sum(nll) / len(nll)


@pytest.mark.parametrize("fixture_name", ["tiny_lm_dir", "tiny_plain_lm_dir"])
def test_perplexity_scorers_match_an_independent_computation(fixture_name, request):
    model_dir = request.getfixturevalue(fixture_name)
    config = {"model_path": str(model_dir), "batch_size": 3}
    with_q = [reference_answer_nll(model_dir=model_dir, sample=s, with_question=True) for s in SAMPLES]
    alone = [reference_answer_nll(model_dir=model_dir, sample=s, with_question=False) for s in SAMPLES]

    loss = build_scorer("loss_a_given_q", config=config).score_batch(SAMPLES)
    ppl_qa = build_scorer("ppl_qa", config=config).score_batch(SAMPLES)
    ppl_a = build_scorer("ppl_a", config=config).score_batch(SAMPLES)
    ifd = build_scorer("ifd", config=config).score_batch(SAMPLES)
    misaligned = build_scorer("ifd_misaligned", config=config).score_batch(SAMPLES)

    for i in range(len(SAMPLES)):
        assert loss[i] == pytest.approx(with_q[i], abs=1e-4)
        assert ppl_qa[i] == pytest.approx(math.exp(with_q[i]), rel=1e-4)
        assert ppl_a[i] == pytest.approx(math.exp(alone[i]), rel=1e-4)
        expected_ifd = math.exp(with_q[i]) / math.exp(alone[i])
        assert ifd[i] == pytest.approx(expected_ifd, rel=1e-4)
        assert misaligned[i] == (1.0 if expected_ifd > 1 else 0.0)
    assert len({round(v, 6) for v in ifd}) == len(SAMPLES), ifd  # the random model does tell the samples apart


def test_batched_losses_equal_unbatched(tiny_lm_dir):
    unbatched = build_scorer("ppl_qa", config={"model_path": str(tiny_lm_dir), "batch_size": 1}).score_batch(SAMPLES)
    clear_loss_cache()  # otherwise the batched run would just read the cache
    batched = build_scorer("ppl_qa", config={"model_path": str(tiny_lm_dir), "batch_size": 4}).score_batch(SAMPLES)
    assert batched == pytest.approx(unbatched, rel=1e-5)
    clear_loss_cache()
    reordered = build_scorer("ppl_qa", config={"model_path": str(tiny_lm_dir), "batch_size": 2}).score_batch(
        SAMPLES[::-1]
    )
    assert reordered[::-1] == pytest.approx(unbatched, rel=1e-5)


def test_empty_answer_is_undefined_not_zero(tiny_lm_dir):
    samples = [SampleText(idx=0, instruction="Say nothing.", response=""), SAMPLES[0]]
    for name in ("ppl_qa", "ppl_a", "ifd", "loss_a_given_q", "ifd_misaligned"):
        values = build_scorer(name, config={"model_path": str(tiny_lm_dir)}).score_batch(samples)
        assert values[0] is None and values[1] is not None


def test_scorers_share_one_forward_per_sample_and_kind(tiny_lm_dir):
    from scoring.scorers import perplexity

    config = {"model_path": str(tiny_lm_dir)}
    ppl = build_scorer("ppl_qa", config=config).score_batch(SAMPLES)
    assert len(perplexity._LOSS_CACHE) == len(SAMPLES)
    loss = build_scorer("loss_a_given_q", config=config).score_batch(SAMPLES)
    assert len(perplexity._LOSS_CACHE) == len(SAMPLES)  # read from the cache: no new forward pass
    build_scorer("ifd", config=config).score_batch(SAMPLES)
    assert len(perplexity._LOSS_CACHE) == 2 * len(SAMPLES)  # only the answer-alone kind was added
    assert loss == pytest.approx([math.log(p) for p in ppl])


def test_max_length_truncates_with_the_answer_keeping_at_least_half(tiny_lm_dir):
    lm = load_causal_lm(model_path=str(tiny_lm_dir))
    sample = SampleText(idx=0, instruction="question " * 40, response="answer " * 40)
    full_answer = len(lm.tokenizer(sample.response, add_special_tokens=False)["input_ids"])
    qa = scored_sequence(lm=lm, sample=sample, kind="qa", max_length=32)
    alone = scored_sequence(lm=lm, sample=sample, kind="a", max_length=32)
    assert len(qa.ids) == 32 and full_answer > 16
    assert len(qa.ids) - qa.context_len == 16  # the answer got half, the prompt the rest
    assert qa.ids[qa.context_len :] == alone.ids[alone.context_len :]  # both kinds score the same answer tokens
    full_prompt = prompt_ids(lm=lm, sample=sample)
    assert qa.ids[: qa.context_len] == full_prompt[-qa.context_len :]  # the prompt keeps its tail
    short_q = SampleText(idx=1, instruction="Hi", response="answer " * 80)
    seq = scored_sequence(lm=lm, sample=short_q, kind="qa", max_length=64)
    short_prompt = prompt_ids(lm=lm, sample=short_q)
    assert len(short_prompt) < 32  # a short prompt is kept whole and leaves more room to the answer
    assert len(seq.ids) == 64 and seq.context_len == len(short_prompt)
    values = build_scorer("ppl_qa", config={"model_path": str(tiny_lm_dir), "max_length": 32}).score_batch([sample])
    assert values[0] is not None and values[0] > 1


def test_model_identity_is_machine_independent_and_does_not_load_the_model(tiny_lm_dir):
    from arena.model_loading import loaders as local_models

    local_models.clear_model_caches()
    identity = build_scorer("ifd", config={"model_path": str(tiny_lm_dir)}).model_identity()
    assert local_models._CAUSAL_LMS == {}  # the API process can validate a run without loading weights
    assert identity == {
        "model_path": str(tiny_lm_dir),
        "fingerprint": identity["fingerprint"],
        "precision": "float32 on CPU, bfloat16 on CUDA",
    }
    assert len(identity["fingerprint"]) == 16
    loaded = load_causal_lm(model_path=str(tiny_lm_dir))
    assert loaded.identity == {**identity, "dtype": "float32", "device": "cpu"}  # the per-process view adds both
    embedder = build_scorer("knn_distance").model_identity()
    assert embedder["embedder"] == "all-MiniLM-L6-v2" and embedder["max_length"] == 256
    assert local_models._EMBEDDERS == {}
    assert "site-packages" not in str(embedder)  # no install path: the same on every machine


def test_bad_configuration_is_refused_with_the_reason(tiny_lm_dir, tmp_path):
    with pytest.raises(InvalidInput, match="model path .*does not exist"):
        build_scorer("ppl_qa", config={"model_path": str(tmp_path / "nowhere")})
    broken = copy_without_config(source=tiny_lm_dir, target=tmp_path / "broken")
    with pytest.raises(InvalidInput, match=r"is not a Hugging Face model directory \(no config.json\)"):
        build_scorer("ifd", config={"model_path": str(broken)})
    with pytest.raises(InvalidInput, match="does not accept option.*temperature"):
        build_scorer("ppl_a", config={"temperature": 1})
    with pytest.raises(InvalidInput, match="max_length must be an integer >= 8"):
        build_scorer("ppl_a", config={"model_path": str(tiny_lm_dir), "max_length": 4})
    with pytest.raises(InvalidInput, match="batch_size"):
        build_scorer("ppl_a", config={"model_path": str(tiny_lm_dir), "batch_size": 0})
    with pytest.raises(InvalidInput, match="k must be an integer"):
        build_scorer("knn_distance", config={"k": 0})
    with pytest.raises(InvalidInput, match="threshold must be a number"):
        build_scorer("near_duplicate", config={"threshold": 2})
    with pytest.raises(InvalidInput, match="text must be 'qa' or 'q'"):
        build_scorer("knn_distance", config={"text": "answer"})


def test_scoring_lm_path_setting_is_checked(settings, tmp_path):
    settings.ARENA_SCORING_LM_PATH = str(tmp_path / "missing-model")
    scorer = build_scorer("ppl_qa")
    with pytest.raises(InvalidInput, match="does not exist"):
        scorer.score_batch(SAMPLES[:1])


def test_device_setting_is_validated():
    assert resolve_device(requested="cpu").type == "cpu"
    assert resolve_device(requested="auto").type == ("cuda" if torch.cuda.is_available() else "cpu")
    with pytest.raises(InvalidInput, match="is not a device"):
        resolve_device(requested="tpu")
    if not torch.cuda.is_available():
        with pytest.raises(InvalidInput, match="no CUDA device"):
            resolve_device(requested="cuda")


# --- embeddings -------------------------------------------------------------------------
def test_minilm_embeddings_match_sentence_transformers(minilm_path):
    from sentence_transformers import SentenceTransformer

    texts = ["A cat sat on the mat.", "Quantum computers use qubits.", "short", "x " * 400]
    mine = embed_texts(embedder=load_sentence_embedder(), texts=texts, batch_size=3)
    reference = SentenceTransformer(str(minilm_path), device="cpu").encode(texts, normalize_embeddings=True)
    assert mine.shape == (4, 384)
    assert np.allclose(np.linalg.norm(mine, axis=1), 1.0, atol=1e-5)
    assert np.allclose(mine, reference, atol=1e-4)


def test_blockwise_nearest_similarities_equal_brute_force():
    rng = np.random.default_rng(0)
    vectors = rng.normal(size=(23, 8)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    vectors[7] = vectors[3]  # an exact duplicate
    full = vectors @ vectors.T
    np.fill_diagonal(full, -np.inf)
    expected = -np.sort(-full, axis=1)[:, :4]
    for resident_bytes in (0, vectors.nbytes):  # streamed from the array, and held on the device
        blocks = list(nearest_similarities(embeddings=vectors, k=4, device=torch.device("cpu"), row_block=5,
                                           col_block=3, resident_bytes=resident_bytes))
        assert [start for start, _ in blocks] == [0, 5, 10, 15, 20]
        got = np.concatenate([sims for _, sims in blocks])
        assert np.allclose(got, expected, atol=1e-6)
    assert got[3, 0] == pytest.approx(1.0, abs=1e-6) and got[7, 0] == pytest.approx(1.0, abs=1e-6)


DISTINCT = [
    ("How do I bake sourdough bread?", "Feed the starter, mix flour and water, proof overnight, bake hot."),
    ("What causes the seasons on Earth?", "The tilt of Earth's axis relative to its orbit around the Sun."),
    ("Write a Python function that reverses a list.", "def rev(xs):\n    return xs[::-1]"),
    ("Who painted the Mona Lisa?", "Leonardo da Vinci painted it in the early sixteenth century."),
    ("Translate 'thank you' into Japanese.", "Arigatou gozaimasu."),
    ("How many legs does a spider have?", "Spiders have eight legs."),
    ("Explain what inflation is in economics.", "A general rise in prices that reduces purchasing power."),
]


def _dataset_with_planted_duplicates() -> list[list[SampleText]]:
    samples = [SampleText(idx=10 + i, instruction=q, response=a) for i, (q, a) in enumerate(DISTINCT)]
    samples.append(SampleText(idx=50, instruction=DISTINCT[1][0], response=DISTINCT[1][1] + " "))  # near-copy of 11
    samples.append(SampleText(idx=51, instruction=DISTINCT[4][0].lower(), response=DISTINCT[4][1]))  # near-copy of 14
    return [samples[:4], samples[4:6], [], samples[6:]]  # engine batches, one of them empty


def test_near_duplicate_flags_the_planted_pairs():
    scores = dict(build_scorer("near_duplicate").score_dataset_samples(_dataset_with_planted_duplicates()))
    assert sorted(scores) == [10, 11, 12, 13, 14, 15, 16, 50, 51]
    flagged = {idx for idx, value in scores.items() if value == 1.0}
    assert flagged == {11, 50, 14, 51}
    assert all(value == 0.0 for idx, value in scores.items() if idx not in flagged)


def test_knn_distance_equals_brute_force_on_the_same_embeddings():
    batches = _dataset_with_planted_duplicates()
    samples = [s for batch in batches for s in batch]
    scorer = build_scorer("knn_distance", config={"k": 3})
    scores = dict(scorer.score_dataset_samples(batches))
    vectors = scorer.embed_samples(samples).astype(np.float64)
    sims = vectors @ vectors.T
    np.fill_diagonal(sims, -np.inf)
    for row, sample in enumerate(samples):
        expected = 1.0 - np.sort(sims[row])[::-1][:3].mean()
        assert scores[sample.idx] == pytest.approx(expected, abs=1e-5)
    assert scores[50] < scores[12] and scores[51] < scores[12]  # planted duplicates sit closer to their neighbours
    assert scorer.model_identity()["embedder"] == "all-MiniLM-L6-v2"


def test_knn_distance_edge_cases_and_question_only_mode():
    lone = [[SampleText(idx=1, instruction="q", response="a")]]
    assert list(build_scorer("knn_distance").score_dataset_samples(lone)) == [(1, None)]
    assert list(build_scorer("near_duplicate").score_dataset_samples(lone)) == [(1, 0.0)]
    assert list(build_scorer("knn_distance").score_dataset_samples([])) == []
    q_only = build_scorer("near_duplicate", config={"text": "q"})
    assert q_only.meta.reads == "Q" and type(q_only).meta.reads == "QA"
    same_question = [[SampleText(idx=1, instruction="Tell me a joke.", response="Why did the chicken cross?"),
                      SampleText(idx=2, instruction="Tell me a joke.", response="Quantum entanglement is spooky.")]]
    assert dict(q_only.score_dataset_samples(same_question)) == {1: 1.0, 2: 1.0}
