"""GraNd, EL2N and G-Vendi: exact checks against plain peft/transformers on a tiny random Llama, hand-checked
G-Vendi algebra, and G-Vendi through the engine (chunked vector passes, crash + resume, the reduction)."""
from __future__ import annotations

import math

import numpy as np
import pyarrow.parquet as pq
import pytest
import torch
from django.core.files.storage import default_storage
from peft import LoraConfig, get_peft_model
from transformers import AutoModelForCausalLM, AutoTokenizer

from arena.errors import InvalidInput
from scoring import chunk_scoring
from scoring.models import ScoreAggregate, ScoringRun
from scoring.scorers.base import SampleText, build_scorer
from scoring.scorers.g_vendi import GVendi
from scoring.scorers.gradient_proxy import GradientSketch
from scoring.scorers.setwise import vendi_from_embeddings
from scoring.services import scoring_run_resume, scoring_run_start
from tests.scoring.model_fixtures import tiny_lm_dir  # noqa: F401

SAMPLES = [
    SampleText(idx=0, instruction="What is 12 times 7?", response="12 times 7 is 84."),
    SampleText(idx=1, instruction="Write a haiku about the sea.", response="Waves fold into foam, salt on stones."),
    SampleText(idx=2, instruction="List three primes.", response="2, 3 and 5 are prime numbers."),
    SampleText(idx=3, instruction="Translate good morning.", response="Bonjour."),
    SampleText(idx=4, instruction="def add(a, b):", response="    return a + b"),
    SampleText(idx=5, instruction="Explain recursion to a child.", response="A function calls itself on a piece."),
]


def reference_gradient(model_dir, sample: SampleText) -> tuple[torch.Tensor, float]:
    """Plain peft: seeded LoRA (rank 8, all linear layers), chat-template prompt masked out, mean answer loss."""
    tokenizer = AutoTokenizer.from_pretrained(str(model_dir))
    base = AutoModelForCausalLM.from_pretrained(str(model_dir), dtype=torch.float32)
    torch.manual_seed(0)
    model = get_peft_model(base, LoraConfig(r=8, lora_alpha=8, lora_dropout=0.0, target_modules="all-linear"))
    rendered = tokenizer.apply_chat_template([{"role": "user", "content": sample.instruction}], tokenize=False,
                                             add_generation_prompt=True)
    prompt = tokenizer(rendered, add_special_tokens=False)["input_ids"]
    answer = tokenizer(sample.response, add_special_tokens=False)["input_ids"]
    ids = torch.tensor([prompt + answer])
    logits = model(input_ids=ids).logits[0]
    logprobs = torch.log_softmax(logits.float(), dim=-1)
    loss = -torch.stack([logprobs[p - 1, ids[0, p]] for p in range(len(prompt), ids.shape[1])]).mean()
    loss.backward()
    grads = [p.grad.reshape(-1) for _, p in sorted(model.named_parameters()) if p.requires_grad]
    return torch.cat(grads), float(loss.detach())


def test_grand_is_the_lora_gradient_norm(tiny_lm_dir):
    scorer = build_scorer("grand", config={"model_path": str(tiny_lm_dir)})
    values = scorer.score_batch(SAMPLES[:3])
    for sample, value in zip(SAMPLES[:3], values):
        gradient, _ = reference_gradient(tiny_lm_dir, sample)
        assert value == pytest.approx(float(gradient.norm()), rel=1e-4)
    assert len({round(v, 6) for v in values}) == 3 and all(v > 0 for v in values)
    assert scorer.score_batch([SampleText(idx=9, instruction="q", response="")]) == [None]
    identity = scorer.model_identity()
    assert identity["lora"] == {"rank": 8, "target_modules": "all-linear", "init_seed": 0}


def test_el2n_by_hand(tiny_lm_dir):
    values = build_scorer("el2n", config={"model_path": str(tiny_lm_dir), "batch_size": 2}).score_batch(SAMPLES[:3])
    tokenizer = AutoTokenizer.from_pretrained(str(tiny_lm_dir))
    model = AutoModelForCausalLM.from_pretrained(str(tiny_lm_dir), dtype=torch.float32).eval()
    for sample, value in zip(SAMPLES[:3], values):
        rendered = tokenizer.apply_chat_template([{"role": "user", "content": sample.instruction}], tokenize=False,
                                                 add_generation_prompt=True)
        prompt = tokenizer(rendered, add_special_tokens=False)["input_ids"]
        answer = tokenizer(sample.response, add_special_tokens=False)["input_ids"]
        with torch.no_grad():
            probs = torch.softmax(model(input_ids=torch.tensor([prompt + answer])).logits[0].double(), dim=-1)
        errors = []
        for i, token in enumerate(answer):
            onehot = torch.zeros(probs.shape[1], dtype=torch.float64)
            onehot[token] = 1.0
            errors.append(float(torch.linalg.vector_norm(probs[len(prompt) + i - 1] - onehot)))
        assert value == pytest.approx(sum(errors) / len(errors), abs=1e-6)
        assert 0 <= value <= math.sqrt(2)


def test_sketch_is_seeded_and_preserves_inner_products():
    generator = torch.Generator().manual_seed(5)
    x, y = torch.randn(20000, generator=generator), torch.randn(20000, generator=generator)
    y = 0.6 * x + 0.8 * y  # cosine(x, y) ~ 0.6
    sketch = GradientSketch(inputs=20000, dim=2048, seed=1, device=torch.device("cpu"))
    again = GradientSketch(inputs=20000, dim=2048, seed=1, device=torch.device("cpu"))
    px, py = sketch.project(x), sketch.project(y)
    assert torch.equal(px, again.project(x))
    exact = float(torch.nn.functional.cosine_similarity(x, y, dim=0))
    assert float(torch.nn.functional.cosine_similarity(px, py, dim=0)) == pytest.approx(exact, abs=0.05)
    assert float(px.norm() / x.norm()) == pytest.approx(1.0, abs=0.05)


def _blocks(vectors: np.ndarray, size: int = 3):
    for start in range(0, len(vectors), size):
        yield np.arange(start, min(start + size, len(vectors))), vectors[start : start + size].astype(np.float32)


def _fit(vectors: np.ndarray) -> tuple[dict, list]:
    scorer = GVendi(config={"projection_dim": vectors.shape[1]})
    result = scorer.fit_vectors(_blocks(vectors))
    return result, [v for _, v in scorer.vector_scores(_blocks(vectors))]


def test_g_vendi_algebra_by_hand():
    identical = np.tile([[0.6, 0.8, 0.0, 0.0]], (5, 1))
    result, contributions = _fit(identical)
    assert result["value"] == pytest.approx(1.0) and contributions == pytest.approx([0.0] * 5, abs=1e-9)
    result, contributions = _fit(np.eye(4))
    assert result["value"] == pytest.approx(4.0) and contributions == pytest.approx([math.log(4)] * 4)
    # three samples along e1, one along e2: the lone one carries the rare direction
    lopsided = np.array([[1.0, 0, 0], [1.0, 0, 0], [1.0, 0, 0], [0, 1.0, 0]])
    result, contributions = _fit(lopsided)
    assert contributions == pytest.approx([-math.log(0.75)] * 3 + [-math.log(0.25)])
    assert np.mean(contributions) == pytest.approx(math.log(result["value"]))  # exact decomposition
    rng = np.random.default_rng(0)
    random_unit = rng.normal(size=(30, 6))
    random_unit /= np.linalg.norm(random_unit, axis=1, keepdims=True)
    result, contributions = _fit(random_unit)
    assert result["value"] == pytest.approx(vendi_from_embeddings(vectors=random_unit), rel=1e-6)  # float32 blocks
    assert np.mean(contributions) == pytest.approx(math.log(result["value"]), rel=1e-9)
    with_missing = np.vstack([np.eye(3), np.full((1, 3), np.nan)])
    result, contributions = _fit(with_missing)
    assert result["value"] == pytest.approx(3.0) and result["without_gradient"] == 1 and contributions[3] is None


def test_g_vendi_ranks_a_gradient_diverse_set_above_a_duplicated_one(tiny_lm_dir):
    config = {"model_path": str(tiny_lm_dir), "projection_dim": 1024}
    diverse = GVendi(config=config)
    dict(diverse.score_dataset_samples([SAMPLES[:3], SAMPLES[3:]]))
    duplicated_samples = [SampleText(idx=i, instruction=SAMPLES[i % 2].instruction, response=SAMPLES[i % 2].response)
                          for i in range(6)]
    duplicated = GVendi(config=config)
    contributions = dict(duplicated.score_dataset_samples([duplicated_samples]))
    high, low = diverse.set_result["value"], duplicated.set_result["value"]
    assert high > low + 1.0, (diverse.set_result, duplicated.set_result)
    assert duplicated.set_result["value"] == pytest.approx(2.0, abs=0.3)  # two distinct gradients, two copies each
    assert np.mean(list(contributions.values())) == pytest.approx(duplicated.set_result["entropy"], rel=1e-6)
    # the projection keeps the geometry: G-Vendi of the full (unprojected) gradients is close
    full = torch.stack([reference_gradient(tiny_lm_dir, s)[0] for s in SAMPLES])
    full = torch.nn.functional.normalize(full, dim=1).double().numpy()
    assert diverse.set_result["value"] == pytest.approx(vendi_from_embeddings(vectors=full), rel=0.1)


def test_bad_gradient_configs_are_refused(tiny_lm_dir, tmp_path):
    with pytest.raises(InvalidInput, match="projection_dim must be an integer >= 2"):
        build_scorer("g_vendi", config={"projection_dim": 1})
    with pytest.raises(InvalidInput, match="lora_rank must be an integer >= 1"):
        build_scorer("grand", config={"lora_rank": 0})
    with pytest.raises(InvalidInput, match="target_modules must be"):
        build_scorer("grand", config={"target_modules": 3})
    with pytest.raises(InvalidInput, match="does not exist"):
        build_scorer("g_vendi", config={"model_path": str(tmp_path / "none")})
    with pytest.raises(InvalidInput, match="cannot put LoRA adapters on"):
        build_scorer("grand", config={"model_path": str(tiny_lm_dir), "target_modules": ["no_such_proj"]}
                     ).score_batch(SAMPLES[:1])


class WorkerCrash(BaseException):
    """What a SIGKILL looks like from inside."""


@pytest.mark.django_db
def test_g_vendi_runs_in_resumable_vector_chunks_and_reduces_at_finalize(user, make_dataset, tiny_lm_dir,
                                                                           monkeypatch):
    dataset = make_dataset(owner=user, n=9)
    real = chunk_scoring.write_vector_range
    crashed: list[int] = []
    calls: list[int] = []

    def crashing(**kwargs):
        calls.append(kwargs["start"])
        if kwargs["start"] == 4 and not crashed:
            crashed.append(1)
            raise WorkerCrash()
        return real(**kwargs)

    monkeypatch.setattr(chunk_scoring, "write_vector_range", crashing)
    spec = {"name": "g_vendi", "config": {"model_path": str(tiny_lm_dir), "projection_dim": 256}}
    with pytest.raises(WorkerCrash):
        scoring_run_start(dataset=dataset, scorers=[spec, "mtld"], user=user, chunk_rows=4)
    run = ScoringRun.objects.get(dataset=dataset)
    vector_chunks = {c.start: c.status for c in run.chunks.filter(group="g_vendi")}
    assert vector_chunks == {0: "done", 4: "running", 8: "pending"}
    kept = run.chunks.get(group="g_vendi", start=0).output_name
    assert default_storage.exists(kept)  # the done chunk's vectors wait on disk for the resume

    calls.clear()
    run = scoring_run_resume(run=run, user=user)
    assert run.status == "succeeded", run.error
    assert sorted(calls) == [4, 8]  # the done vector chunk is not recomputed
    assert not default_storage.exists(kept)  # merged, then removed
    aggregate = ScoreAggregate.objects.get(run=run, scorer="g_vendi")
    assert aggregate.set_value > 1.0 and aggregate.details["n"] == 9 and aggregate.count == 9
    scores = pq.read_table(default_storage.path(run.scores_file)).to_pydict()
    assert scores["idx"] == list(range(9)) and all(v is not None for v in scores["g_vendi"])
    assert aggregate.mean == pytest.approx(math.log(aggregate.set_value), rel=1e-5)  # mean contribution = log G-Vendi
    # the same numbers as one in-process pass over the same samples
    from scoring.sample_reader import iter_sample_batches

    direct = GVendi(config=spec["config"])
    values = dict(direct.score_dataset_samples(iter_sample_batches(dataset.samples_file, batch_size=4)))
    assert direct.set_result["value"] == pytest.approx(aggregate.set_value, rel=1e-5)
    assert [values[i] for i in range(9)] == pytest.approx(scores["g_vendi"], rel=1e-4)


@pytest.mark.slow
def test_smollm2_proxy_gradients():
    """The default proxy (SmolLM2-135M-Instruct, LoRA on every linear layer): three samples, one backward each."""
    samples = SAMPLES[:3]
    grand = build_scorer("grand", config={"max_length": 64})
    norms = grand.score_batch(samples)
    assert all(0 < v < 1e4 for v in norms), norms
    assert grand.model_identity()["model"] == "SmolLM2-135M-Instruct"
    assert grand.proxy.num_parameters > 1_000_000  # rank-8 adapters on all 30 layers' linear maps
    g_vendi = GVendi(config={"max_length": 64})
    contributions = dict(g_vendi.score_dataset_samples([samples]))
    assert 1.0 < g_vendi.set_result["value"] <= 3.0
    assert np.mean(list(contributions.values())) == pytest.approx(g_vendi.set_result["entropy"], rel=1e-6)
