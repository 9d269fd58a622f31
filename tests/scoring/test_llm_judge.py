"""LLM-as-judge scorers against a real OpenAI-compatible HTTP server started by the test (no mocked HTTP layer)."""
from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from arena.errors import InvalidInput
from scoring.judge_client import JudgeError
from scoring.scorers.base import SampleText, build_scorer
from scoring.scorers.llm_judge import DIMENSIONS, InvalidRating, clear_ratings_cache, parse_ratings

Reply = tuple[int, str]  # (HTTP status, assistant text or raw body)


def ratings_for(sample_text: str) -> dict[str, int]:
    """Deterministic, distinct ratings derived from the text, so the test can check each dimension's value."""
    base = sum(map(ord, sample_text)) % 5
    return {name: 1 + (base + i) % 10 for i, name in enumerate(DIMENSIONS)}


def completion(text: str) -> str:
    choice = {"index": 0, "message": {"role": "assistant", "content": text}}
    return json.dumps({"id": "x", "object": "chat.completion", "choices": [choice]})


class JudgeServer:
    """A chat-completions server on 127.0.0.1:<ephemeral>; ``behaviour(request_number, body)`` decides each reply."""

    def __init__(self, behaviour: Callable[[int, dict], Reply], *, delay_s: float = 0.0) -> None:
        self.behaviour = behaviour
        self.delay_s = delay_s
        self.requests: list[dict] = []
        self.headers: list[dict] = []
        self.in_flight = 0
        self.max_in_flight = 0
        self._lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                with server._lock:
                    number = len(server.requests)
                    server.requests.append(body)
                    server.headers.append(dict(self.headers))
                    server.in_flight += 1
                    server.max_in_flight = max(server.max_in_flight, server.in_flight)
                try:
                    if self.path != "/v1/chat/completions":
                        status, payload = 404, "no such route"
                    else:
                        time.sleep(server.delay_s)
                        status, payload = server.behaviour(number, body)
                finally:
                    with server._lock:  # before replying: the client cannot send its next request earlier
                        server.in_flight -= 1
                data = payload.encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args):
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"

    def __enter__(self) -> JudgeServer:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def user_text(body: dict) -> str:
    return body["messages"][1]["content"]


def valid(number: int, body: dict) -> Reply:
    return 200, completion(json.dumps(ratings_for(user_text(body))))


SAMPLES = [
    SampleText(idx=0, instruction="What is 2 + 2?", response="4"),
    SampleText(idx=1, instruction="Name a colour.", response="Blue.", system="Be brief."),
    SampleText(idx=2, instruction="Summarise the plot of Hamlet.", response="A prince avenges his father."),
]


@pytest.fixture(autouse=True)
def _judge_settings(settings):
    clear_ratings_cache()
    settings.ARENA_JUDGE_BASE_URL = ""
    settings.ARENA_JUDGE_MODEL = ""
    settings.ARENA_JUDGE_API_KEY = ""
    settings.ARENA_JUDGE_CONCURRENCY = 4
    yield
    clear_ratings_cache()


def judge_config(server: JudgeServer, **extra) -> dict:
    return {"base_url": server.base_url, "model": "judge-7b", "backoff_s": 0.01, "timeout_s": 5.0, **extra}


def test_eight_scorers_share_one_request_per_sample(settings):
    settings.ARENA_JUDGE_API_KEY = "sekret"
    with JudgeServer(valid) as server:
        results = {}
        for dimension in DIMENSIONS:
            scorer = build_scorer(f"judge_{dimension}", config=judge_config(server))
            results[dimension] = scorer.score_batch(SAMPLES)
            scorer.close()
        assert len(server.requests) == len(SAMPLES)  # 8 scorers, one call per sample
    for sample_number, sample in enumerate(SAMPLES):
        body = next(b for b in server.requests if sample.instruction in user_text(b))
        expected = ratings_for(user_text(body))
        assert {d: results[d][sample_number] for d in DIMENSIONS} == {d: float(v) for d, v in expected.items()}
    body = server.requests[0]
    assert body["model"] == "judge-7b" and body["temperature"] == 0.0 and "response_format" not in body
    assert body["messages"][0]["role"] == "system" and "clarity" in body["messages"][0]["content"]
    assert all(h.get("Authorization") == "Bearer sekret" for h in server.headers)
    system_body = next(b for b in server.requests if "Name a colour." in user_text(b))
    assert "### System prompt\nBe brief." in user_text(system_body)
    scorer = build_scorer("judge_relevance", config=judge_config(server))
    assert scorer.model_identity() == {"judge_model": "judge-7b", "prompt_version": "judge-v1"}
    assert "sekret" not in json.dumps(scorer.config)


def test_endpoint_and_model_from_settings(settings):
    with JudgeServer(valid) as server:
        settings.ARENA_JUDGE_BASE_URL = server.base_url
        settings.ARENA_JUDGE_MODEL = "served-judge"
        scorer = build_scorer("judge_clarity", config={"json_mode": True})
        values = scorer.score_batch(SAMPLES[:1])
        assert len(server.requests) == 1
        assert values == [float(ratings_for(user_text(server.requests[0]))["clarity"])]
        assert server.requests[0]["model"] == "served-judge"
        assert server.requests[0]["response_format"] == {"type": "json_object"}


def test_invalid_json_gets_one_corrective_retry():
    def behaviour(number: int, body: dict) -> Reply:
        if number == 0:
            return 200, completion("Sure! Here are my ratings: clarity 8, coherence 7")
        return valid(number, body)

    with JudgeServer(behaviour) as server:
        values = build_scorer("judge_coherence", config=judge_config(server)).score_batch(SAMPLES[:1])
        assert len(server.requests) == 2
    retry = server.requests[1]["messages"]
    assert retry[2] == {"role": "assistant", "content": "Sure! Here are my ratings: clarity 8, coherence 7"}
    assert retry[3]["role"] == "user" and "not valid JSON" in retry[3]["content"]
    assert values == [float(ratings_for(user_text(server.requests[1]))["coherence"])]


def test_server_errors_are_retried_with_backoff():
    def behaviour(number: int, body: dict) -> Reply:
        return (500, "overloaded") if number < 2 else valid(number, body)

    with JudgeServer(behaviour) as server:
        started = time.monotonic()
        values = build_scorer("judge_difficulty", config=judge_config(server, backoff_s=0.1)).score_batch(SAMPLES[:1])
        elapsed = time.monotonic() - started
        assert len(server.requests) == 3
    assert elapsed >= 0.1 + 0.2  # exponential: 0.1 s then 0.2 s
    assert values == [float(ratings_for(user_text(server.requests[2]))["difficulty"])]


def test_rate_limit_then_success_and_persistent_failure_is_a_clear_error():
    def behaviour(number: int, body: dict) -> Reply:
        return (429, "slow down") if number == 0 else valid(number, body)

    with JudgeServer(behaviour) as server:
        assert build_scorer("judge_clarity", config=judge_config(server)).score_batch(SAMPLES[:1])[0] is not None
        assert len(server.requests) == 2
    with JudgeServer(lambda n, b: (503, "down for maintenance")) as server:
        scorer = build_scorer("judge_clarity", config=judge_config(server, max_retries=2))
        with pytest.raises(JudgeError, match=r"failed for sample 0 after 3 attempts; last: HTTP 503: down for maint"):
            scorer.score_batch(SAMPLES[:1])
        assert len(server.requests) == 3


def test_client_errors_are_not_retried():
    with JudgeServer(lambda n, b: (400, '{"error": "model judge-7b does not exist"}')) as server:
        with pytest.raises(JudgeError, match="refused sample 0: HTTP 400.*does not exist"):
            build_scorer("judge_clarity", config=judge_config(server)).score_batch(SAMPLES[:1])
        assert len(server.requests) == 1


def test_timeouts_are_retried():
    def behaviour(number: int, body: dict) -> Reply:
        if number == 0:
            time.sleep(0.6)
        return valid(number, body)

    with JudgeServer(behaviour) as server:
        values = build_scorer("judge_clarity", config=judge_config(server, timeout_s=0.3)).score_batch(SAMPLES[:1])
        assert len(server.requests) == 2 and values[0] is not None


def test_always_invalid_replies_end_in_an_error_naming_the_sample_and_problem():
    partial = json.dumps({name: 5 for name in DIMENSIONS if name != "relevance"})
    with JudgeServer(lambda n, b: (200, completion(partial))) as server:
        sample = SampleText(idx=7, instruction="Q", response="A")
        expected = r"no valid rating for sample 7 after a corrective retry: the reply lacks dimension\(s\) relevance"
        with pytest.raises(JudgeError, match=expected):
            build_scorer("judge_relevance", config=judge_config(server)).score_batch([sample])
        assert len(server.requests) == 2
    out_of_range = json.dumps({**{name: 5 for name in DIMENSIONS}, "correctness": 11})
    with JudgeServer(lambda n, b: (200, completion(out_of_range))) as server:
        with pytest.raises(JudgeError, match="sample 0 .*integers from 1 to 10, got correctness=11"):
            build_scorer("judge_correctness", config=judge_config(server)).score_batch(SAMPLES[:1])


def test_not_a_chat_completion_is_a_clear_error():
    with JudgeServer(lambda n, b: (200, '{"result": "ok"}')) as server:
        with pytest.raises(JudgeError, match="replied to sample 0 with something that is not a chat completion"):
            build_scorer("judge_clarity", config=judge_config(server)).score_batch(SAMPLES[:1])


def test_concurrency_is_limited():
    samples = [SampleText(idx=i, instruction=f"Question number {i}", response=f"Answer {i}") for i in range(12)]
    with JudgeServer(valid, delay_s=0.15) as server:
        values = build_scorer("judge_clarity", config=judge_config(server, max_concurrency=3)).score_batch(samples)
    assert len(values) == 12 and all(v is not None for v in values)
    assert len(server.requests) == 12
    assert 2 <= server.max_in_flight <= 3  # parallel, but never above the limit


def test_missing_endpoint_or_model_and_bad_options_are_refused():
    expected = "^LLM judge needs an OpenAI-compatible endpoint: set ARENA_JUDGE_BASE_URL or pass config base_url$"
    with pytest.raises(InvalidInput, match=expected):
        build_scorer("judge_clarity")
    with pytest.raises(InvalidInput, match="needs a model name: set ARENA_JUDGE_MODEL"):
        build_scorer("judge_clarity", config={"base_url": "http://127.0.0.1:9/v1"})
    with pytest.raises(InvalidInput, match="is not an http\\(s\\) URL"):
        build_scorer("judge_clarity", config={"base_url": "localhost:8000", "model": "m"})
    with pytest.raises(InvalidInput, match="does not accept option.*api_key"):
        build_scorer("judge_clarity", config={"base_url": "http://h/v1", "model": "m", "api_key": "k"})
    with pytest.raises(InvalidInput, match="max_retries must be an integer >= 0"):
        build_scorer("judge_clarity", config={"base_url": "http://h/v1", "model": "m", "max_retries": -1})


def test_unreachable_endpoint_is_a_clear_error():
    scorer = build_scorer("judge_clarity", config={"base_url": "http://127.0.0.1:9/v1", "model": "m",
                                                   "max_retries": 1, "backoff_s": 0.01})
    with pytest.raises(JudgeError, match="failed for sample 0 after 2 attempts; last: ConnectError"):
        scorer.score_batch(SAMPLES[:1])


def test_parse_ratings_rules():
    good = {name: 3 for name in DIMENSIONS}
    assert parse_ratings(text="```json\n" + json.dumps(good) + "\n```") == good
    assert parse_ratings(text=json.dumps({**good, "rationale": "fine"})) == good
    for bad, problem in [
        ({**good, "clarity": True}, "clarity=True"),
        ({**good, "clarity": 7.5}, "clarity=7.5"),
        ({**good, "clarity": "7"}, "clarity='7'"),
        ({**good, "difficulty": 0}, "difficulty=0"),
    ]:
        with pytest.raises(InvalidRating, match=problem):
            parse_ratings(text=json.dumps(bad))
    with pytest.raises(InvalidRating, match="not an object"):
        parse_ratings(text="[1, 2, 3]")
