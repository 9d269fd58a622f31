"""LLM-as-judge scorers: an OpenAI-compatible model rates each sample on 8 dimensions, 1-10.

One request per sample returns all 8 ratings as a JSON object; the 8 scorers (``judge_clarity`` ...
``judge_relevance``) share it through a bounded per-process cache keyed by endpoint model, prompt version,
request options and the sample's text, so asking for all 8 costs one call per sample (when they run one after the
other in a process; scorers run concurrently in separate threads may each send their own request).

A reply must be a JSON object (optionally inside one ```json fence) with all 8 keys, each an integer 1-10; other
keys are ignored. An invalid reply is answered once with a corrective message naming the problem; a second invalid
reply is a ``JudgeError`` naming the sample and the problem. No rating is ever defaulted.
"""
from __future__ import annotations

import hashlib
import json
import re
import threading
from collections import OrderedDict
from collections.abc import Sequence
from urllib.parse import urlparse

from django.conf import settings

from arena.errors import InvalidInput
from scoring.judge_client import JudgeClient, JudgeEndpoint, JudgeError
from scoring.scorers.base import SampleText, Scorer, ScorerMeta, register

PROMPT_VERSION = "judge-v1"
DIMENSIONS = (
    "clarity",
    "coherence",
    "completeness",
    "complexity",
    "correctness",
    "meaningfulness",
    "difficulty",
    "relevance",
)
DIMENSION_MEANINGS = {
    "clarity": "the instruction and the response are clearly and unambiguously written",
    "coherence": "the response is logically organised and consistent with itself",
    "completeness": "the response fully addresses every part of the instruction",
    "complexity": "the task requires multi-step reasoning or rich knowledge (10 = very complex)",
    "correctness": "the response is factually and technically correct",
    "meaningfulness": "the pair is useful, non-trivial training data for an assistant",
    "difficulty": "how hard the instruction is for a strong model (10 = very hard)",
    "relevance": "the response answers the instruction that was actually asked",
}
SYSTEM_PROMPT = (
    "You rate one instruction-response pair from a dataset used to fine-tune AI assistants. Rate each dimension "
    "with an integer from 1 (lowest) to 10 (highest):\n"
    + "\n".join(f"- {name}: {meaning}" for name, meaning in DIMENSION_MEANINGS.items())
    + "\nReply with ONLY a JSON object with exactly these keys and integer values, no other text, e.g. "
    + json.dumps({name: 5 for name in DIMENSIONS})
)
CACHE_MAX_ENTRIES = 100_000
_FENCE = re.compile(r"^```(?:json)?\s*(.*?)\s*```$", re.DOTALL)

_CACHE_LOCK = threading.Lock()
_RATINGS_CACHE: OrderedDict[tuple, dict[str, int]] = OrderedDict()


class InvalidRating(ValueError):
    """A judge reply that does not hold the 8 integer ratings."""


def parse_ratings(*, text: str) -> dict[str, int]:
    """The 8 ratings from a reply, or InvalidRating saying exactly what is wrong."""
    stripped = text.strip()
    fenced = _FENCE.match(stripped)
    if fenced:
        stripped = fenced.group(1)
    try:
        data = json.loads(stripped)
    except json.JSONDecodeError as exc:
        raise InvalidRating(f"the reply is not valid JSON ({exc.msg} at char {exc.pos}): {text[:200]!r}") from exc
    if not isinstance(data, dict):
        raise InvalidRating(f"the reply is JSON but not an object: {text[:200]!r}")
    missing = [name for name in DIMENSIONS if name not in data]
    if missing:
        raise InvalidRating(f"the reply lacks dimension(s) {', '.join(missing)}")
    bad = [
        f"{name}={data[name]!r}"
        for name in DIMENSIONS
        if isinstance(data[name], bool) or not isinstance(data[name], int) or not 1 <= data[name] <= 10
    ]
    if bad:
        raise InvalidRating(f"ratings must be integers from 1 to 10, got {', '.join(bad)}")
    return {name: int(data[name]) for name in DIMENSIONS}


def _clip_text(*, text: str, max_chars: int) -> str:
    if len(text) <= max_chars:
        return text
    return text[:max_chars] + f"\n[... {len(text) - max_chars} more characters not shown]"


def judge_messages(*, sample: SampleText, max_chars: int) -> list[dict]:
    parts = []
    if sample.system:
        parts.append(f"### System prompt\n{_clip_text(text=sample.system, max_chars=max_chars)}")
    parts.append(f"### Instruction\n{_clip_text(text=sample.instruction, max_chars=max_chars)}")
    parts.append(f"### Response\n{_clip_text(text=sample.response, max_chars=max_chars)}")
    return [{"role": "system", "content": SYSTEM_PROMPT}, {"role": "user", "content": "\n\n".join(parts)}]


def rate_sample(*, client: JudgeClient, sample: SampleText, max_chars: int, extra: dict) -> dict[str, int]:
    """The 8 ratings of one sample: one request, plus one corrective request if the first reply is invalid."""
    label = f"sample {sample.idx}"
    messages = judge_messages(sample=sample, max_chars=max_chars)
    reply = client.complete(messages=messages, label=label, extra=extra)
    try:
        return parse_ratings(text=reply)
    except InvalidRating as first:
        corrective = messages + [
            {"role": "assistant", "content": reply},
            {
                "role": "user",
                "content": f"That reply is invalid: {first}. Reply again with ONLY a JSON object with the keys "
                f"{', '.join(DIMENSIONS)}, each an integer from 1 to 10.",
            },
        ]
        second_reply = client.complete(messages=corrective, label=label, extra=extra)
        try:
            return parse_ratings(text=second_reply)
        except InvalidRating as second:
            raise JudgeError(
                f"LLM judge gave no valid rating for {label} after a corrective retry: {second} "
                f"(first reply: {first})"
            ) from second


class JudgeScorer(Scorer):
    dimension: str = ""
    default_config = {
        "base_url": "",  # "" = settings.ARENA_JUDGE_BASE_URL
        "model": "",  # "" = settings.ARENA_JUDGE_MODEL
        "max_concurrency": 0,  # 0 = settings.ARENA_JUDGE_CONCURRENCY
        "timeout_s": 60.0,
        "max_retries": 4,
        "backoff_s": 1.0,
        "temperature": 0.0,
        "max_tokens": 200,
        "max_chars": 8000,
        "json_mode": False,  # send response_format={"type": "json_object"} (vLLM and OpenAI support it)
    }

    @classmethod
    def unavailable_reason(cls) -> str:
        if settings.ARENA_JUDGE_BASE_URL:
            return ""
        return "no judge endpoint configured (set ARENA_JUDGE_BASE_URL, or pass base_url in its options via the API)"

    def __init__(self, *, config: dict | None = None) -> None:
        super().__init__(config=config)
        self.endpoint = self._endpoint()
        self._client: JudgeClient | None = None

    def _endpoint(self) -> JudgeEndpoint:
        c = self.config
        base_url = c["base_url"] or settings.ARENA_JUDGE_BASE_URL
        if not base_url:
            raise InvalidInput(
                "LLM judge needs an OpenAI-compatible endpoint: set ARENA_JUDGE_BASE_URL or pass config base_url"
            )
        parsed = urlparse(base_url)
        if parsed.scheme not in ("http", "https") or not parsed.netloc:
            raise InvalidInput(f"LLM judge base_url {base_url!r} is not an http(s) URL such as http://host:8000/v1")
        model = c["model"] or settings.ARENA_JUDGE_MODEL
        if not model:
            raise InvalidInput("LLM judge needs a model name: set ARENA_JUDGE_MODEL or pass config model")
        for name, low in (("max_concurrency", 0), ("max_retries", 0), ("max_tokens", 1), ("max_chars", 100)):
            value = c[name]
            if isinstance(value, bool) or not isinstance(value, int) or value < low:
                raise InvalidInput(f"scorer {self.meta.name!r}: {name} must be an integer >= {low}, got {value!r}")
        for name in ("timeout_s", "backoff_s", "temperature"):
            value = c[name]
            if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
                raise InvalidInput(f"scorer {self.meta.name!r}: {name} must be a number >= 0, got {value!r}")
        if not isinstance(c["json_mode"], bool):
            raise InvalidInput(f"scorer {self.meta.name!r}: json_mode must be true or false")
        concurrency = c["max_concurrency"] or settings.ARENA_JUDGE_CONCURRENCY
        if concurrency < 1:
            raise InvalidInput(f"ARENA_JUDGE_CONCURRENCY must be >= 1, got {concurrency}")
        return JudgeEndpoint(
            base_url=base_url,
            model=model,
            api_key=settings.ARENA_JUDGE_API_KEY,  # never part of the config, so never in a stored config or hash
            timeout_s=float(c["timeout_s"]),
            max_retries=c["max_retries"],
            backoff_s=float(c["backoff_s"]),
            max_concurrency=concurrency,
        )

    @property
    def client(self) -> JudgeClient:
        if self._client is None:
            self._client = JudgeClient(endpoint=self.endpoint)
        return self._client

    def request_options(self) -> dict:
        options = {"temperature": float(self.config["temperature"]), "max_tokens": self.config["max_tokens"]}
        if self.config["json_mode"]:
            options["response_format"] = {"type": "json_object"}
        return options

    def model_identity(self) -> dict:
        return {"judge_model": self.endpoint.model, "prompt_version": PROMPT_VERSION}

    def _cache_key(self, sample: SampleText) -> tuple:
        text = json.dumps([sample.system, sample.instruction, sample.response], ensure_ascii=False)
        options = json.dumps({**self.request_options(), "max_chars": self.config["max_chars"]}, sort_keys=True)
        digest = hashlib.sha256(text.encode()).hexdigest()
        return (self.endpoint.base_url, self.endpoint.model, PROMPT_VERSION, options, digest)

    def ratings(self, samples: Sequence[SampleText]) -> list[dict[str, int]]:
        keys = [self._cache_key(sample) for sample in samples]
        with _CACHE_LOCK:
            known = {key: _RATINGS_CACHE[key] for key in keys if key in _RATINGS_CACHE}
        todo: dict[tuple, SampleText] = {}
        for key, sample in zip(keys, samples):
            if key not in known:
                todo.setdefault(key, sample)
        extra = self.request_options()
        fresh = self.client.map_concurrently(
            work=lambda s: rate_sample(client=self.client, sample=s, max_chars=self.config["max_chars"], extra=extra),
            items=list(todo.values()),
        )
        with _CACHE_LOCK:
            for key, value in zip(todo, fresh):
                _RATINGS_CACHE[key] = value
                _RATINGS_CACHE.move_to_end(key)
            while len(_RATINGS_CACHE) > CACHE_MAX_ENTRIES:
                _RATINGS_CACHE.popitem(last=False)
        known.update(zip(todo, fresh))
        return [known[key] for key in keys]

    def score_batch(self, samples: Sequence[SampleText]) -> list[float | None]:
        return [float(rating[self.dimension]) for rating in self.ratings(samples)]

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None


def clear_ratings_cache() -> None:
    with _CACHE_LOCK:
        _RATINGS_CACHE.clear()


def _meta(dimension: str) -> ScorerMeta:
    return ScorerMeta(
        name=f"judge_{dimension}",
        axis="judge",
        reads="QA",
        raw_range=(1.0, 10.0),
        higher_is_better=True,
        needs_model=True,
        version="1",
        unit="rating 1-10",
        description=f"LLM-as-judge rating 1-10 of {dimension}: {DIMENSION_MEANINGS[dimension]}. One request per "
        "sample to an OpenAI-compatible endpoint rates all 8 judge_* dimensions at once."
        + (" Higher = more valuable training data (harder/richer instructions teach more)."
           if dimension in ("complexity", "difficulty") else ""),
    )


# One registered scorer per dimension (judge_clarity, judge_coherence, ...), all sharing one request per sample.
for _dimension in DIMENSIONS:
    register(type(f"Judge{_dimension.title()}", (JudgeScorer,), {"dimension": _dimension, "meta": _meta(_dimension)}))
