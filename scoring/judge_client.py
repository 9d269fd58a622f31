"""A client for an OpenAI-compatible chat-completions endpoint (vLLM serve, TGI, llama.cpp server, OpenAI...).

* ``complete`` sends one conversation and returns the assistant text; ``map_concurrently`` runs a function over
  many items with at most ``max_concurrency`` requests in flight (a thread pool sharing one ``httpx.Client``).
* Retries with exponential backoff (``backoff_s * 2**attempt``, plus ``Retry-After`` when the server sends it) on
  429, 5xx, timeouts and connection errors; any other HTTP error, or a reply that is not a chat completion, fails
  at once with a ``JudgeError`` naming the request and the problem. Nothing is ever replaced by a default.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TypeVar

import httpx

from arena.errors import ArenaError

RETRY_STATUSES = frozenset({408, 409, 429, 500, 502, 503, 504})
MAX_RETRY_AFTER_S = 60.0
T = TypeVar("T")
R = TypeVar("R")


class JudgeError(ArenaError):
    """The judge endpoint could not be used or replied with something unusable."""

    status_code = 502
    code = "judge_failed"


@dataclass(frozen=True)
class JudgeEndpoint:
    base_url: str  # e.g. http://127.0.0.1:8000/v1 ; /chat/completions is appended
    model: str
    api_key: str = ""
    timeout_s: float = 60.0
    max_retries: int = 4
    backoff_s: float = 1.0
    max_concurrency: int = 8

    @property
    def url(self) -> str:
        return self.base_url.rstrip("/") + "/chat/completions"


class JudgeClient:
    def __init__(self, *, endpoint: JudgeEndpoint, sleep: Callable[[float], None] = time.sleep) -> None:
        self.endpoint = endpoint
        self._sleep = sleep
        headers = {"Content-Type": "application/json"}
        if endpoint.api_key:
            headers["Authorization"] = f"Bearer {endpoint.api_key}"
        concurrency = endpoint.max_concurrency
        limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
        self._http = httpx.Client(headers=headers, timeout=endpoint.timeout_s, limits=limits)

    def close(self) -> None:
        self._http.close()

    def complete(self, *, messages: Sequence[dict], label: str, extra: dict | None = None) -> str:
        """The assistant text for one conversation; ``label`` names it in errors (e.g. "sample 12")."""
        payload = {"model": self.endpoint.model, "messages": list(messages), **(extra or {})}
        attempts = self.endpoint.max_retries + 1
        for attempt in range(attempts):
            retry_after: float | None = None
            try:
                response = self._http.post(self.endpoint.url, json=payload)
            except (httpx.TimeoutException, httpx.TransportError) as exc:
                problem = f"{type(exc).__name__}: {exc}"
            else:
                if response.status_code == 200:
                    return self._assistant_text(response=response, label=label)
                problem = f"HTTP {response.status_code}: {response.text[:300]}"
                if response.status_code not in RETRY_STATUSES:
                    raise JudgeError(f"LLM judge endpoint {self.endpoint.url} refused {label}: {problem}")
                retry_after = _retry_after_seconds(response=response)
            if attempt + 1 < attempts:
                delay = self.endpoint.backoff_s * 2**attempt
                self._sleep(max(delay, retry_after or 0.0))
        raise JudgeError(
            f"LLM judge endpoint {self.endpoint.url} failed for {label} after {attempts} attempts; last: {problem}"
        )

    def map_concurrently(self, *, work: Callable[[T], R], items: Sequence[T]) -> list[R]:
        """``work(item)`` for every item, in order, on at most max_concurrency threads (so at most that many
        requests in flight). The first failure cancels what has not started and is raised."""
        if not items:
            return []
        workers = min(self.endpoint.max_concurrency, len(items))
        pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="judge")
        try:
            futures = [pool.submit(work, item) for item in items]
            return [future.result() for future in futures]
        finally:
            pool.shutdown(wait=True, cancel_futures=True)

    def _assistant_text(self, *, response: httpx.Response, label: str) -> str:
        try:
            body = response.json()
            content = body["choices"][0]["message"]["content"]
        except (ValueError, KeyError, IndexError, TypeError) as exc:
            raise JudgeError(
                f"LLM judge endpoint {self.endpoint.url} replied to {label} with something that is not a chat "
                f"completion ({type(exc).__name__}: {exc}): {response.text[:300]}"
            ) from exc
        if not isinstance(content, str):
            raise JudgeError(f"LLM judge endpoint {self.endpoint.url} replied to {label} with no message text")
        return content


def _retry_after_seconds(*, response: httpx.Response) -> float | None:
    value = response.headers.get("Retry-After")
    try:
        return min(float(value), MAX_RETRY_AFTER_S) if value else None
    except ValueError:
        return None
