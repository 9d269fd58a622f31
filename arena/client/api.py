"""``ArenaClient``: Arena's REST API over httpx, with errors a user can read."""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import Any

import httpx

from arena.client.errors import ArenaClientError, message_from_body
from arena.client.progress import ProgressReader, byte_bar

DONE_STATUSES = frozenset({"ready", "succeeded", "success", "completed", "complete", "done", "finished"})
FAILED_STATUSES = frozenset({"failed", "error", "cancelled", "canceled"})


class ArenaClient:
    """A session with one Arena server. ``token`` is a DRF token (``arena login`` or POST /api/v1/auth/token/)."""

    def __init__(self, base_url: str, token: str | None = None, *, timeout: float = 60.0) -> None:
        base_url = (base_url or "").strip().rstrip("/")
        if not base_url.startswith(("http://", "https://")):
            raise ArenaClientError(f"the Arena URL must start with http:// or https://, got {base_url!r}")
        self.base_url = base_url
        self.token = token
        headers = {"Accept": "application/json", "User-Agent": "arena-client"}
        if token:
            headers["Authorization"] = f"Token {token}"
        self._http = httpx.Client(base_url=base_url, headers=headers, timeout=timeout)

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> "ArenaClient":
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()

    # --- transport -----------------------------------------------------------------------------

    @contextmanager
    def _reaching(self) -> Iterator[None]:
        try:
            yield
        except httpx.ConnectError:
            raise ArenaClientError(
                f"cannot reach Arena at {self.base_url} (connection refused or host unknown)"
            ) from None
        except httpx.TimeoutException:
            raise ArenaClientError(f"Arena at {self.base_url} did not answer in time") from None
        except httpx.TransportError as exc:
            raise ArenaClientError(f"cannot talk to Arena at {self.base_url}: {exc}") from None

    def _check(self, response: httpx.Response) -> httpx.Response:
        if response.is_success:
            return response
        try:
            body = response.json()
        except ValueError:
            body = None
        message, code = message_from_body(body)
        if not message:
            message = f"{response.reason_phrase or 'error'} ({response.request.method} {response.request.url.path})"
        if response.status_code == 401 and not self.token:
            message += "; log in first (arena login) or set ARENA_TOKEN"
        raise ArenaClientError(f"HTTP {response.status_code}: {message}", status=response.status_code, code=code)

    def _request(self, method: str, path: str, **kwargs) -> httpx.Response:
        with self._reaching():
            response = self._http.request(method, path, **kwargs)
        return self._check(response)

    def _json(self, method: str, path: str, **kwargs) -> Any:
        response = self._request(method, path, **kwargs)
        try:
            return response.json()
        except ValueError:
            raise ArenaClientError(f"Arena answered {path} with something that is not JSON") from None

    # --- auth ----------------------------------------------------------------------------------

    def login(self, *, username: str, password: str) -> str:
        """Exchange a username and password for an API token (also used by this client from now on)."""
        token = self._json("POST", "/api/v1/auth/token/", data={"username": username, "password": password})["token"]
        self.token = token
        self._http.headers["Authorization"] = f"Token {token}"
        return token

    # --- datasets ------------------------------------------------------------------------------

    def upload(
        self,
        path: str,
        *,
        name: str,
        visibility: str = "public",
        domains: Iterable[str] = (),
        parents: Iterable[str] = (),
        license: str = "",
        description: str = "",
        source_url: str = "",
        file_format: str = "",
        sample_format: str = "",
        policy: str = "",
        progress: bool = True,
    ) -> dict:
        """Upload a dataset file, streamed from disk with a progress bar; returns the dataset record.

        ``policy`` is ``repair`` (the server's default) or ``strict``."""
        if not os.path.isfile(path):
            raise ArenaClientError(f"no such file: {path}")
        fields: dict[str, str | list[str]] = {"name": name, "visibility": visibility}
        optional = {
            "domains": [d for d in domains if d],
            "license": license,
            "description": description,
            "source_url": source_url,
            "file_format": file_format,
            "sample_format": sample_format,
            "policy": policy,
            "parents": json.dumps([{"dataset": slug} for slug in parents if slug]) if any(parents) else "",
        }
        fields.update({key: value for key, value in optional.items() if value})
        size = os.path.getsize(path)
        with open(path, "rb") as handle, byte_bar(total=size, description="upload", enabled=progress) as bar:
            files = {"file": (os.path.basename(path), ProgressReader(handle, bar), "application/octet-stream")}
            return self._json("POST", "/api/v1/datasets/", data=fields, files=files, timeout=None)

    def datasets(self, *, search: str = "", domain: str = "", owner: str = "", page_size: int = 200) -> list[dict]:
        """Every dataset visible to this client, following the server's pagination."""
        params = {k: v for k, v in {"search": search, "domain": domain, "owner": owner}.items() if v}
        found: list[dict] = []
        offset = 0
        while True:
            page = self._json("GET", "/api/v1/datasets/", params={**params, "limit": page_size, "offset": offset})
            found += page["results"]
            if not page.get("next") or not page["results"]:
                return found
            offset += len(page["results"])

    def dataset(self, slug: str) -> dict:
        return self._json("GET", f"/api/v1/datasets/{slug}/")

    def samples(self, slug: str, *, offset: int = 0, limit: int = 20) -> dict:
        return self._json("GET", f"/api/v1/datasets/{slug}/samples/", params={"offset": offset, "limit": limit})

    def wait_dataset(
        self, slug: str, *, interval: float = 1.0, timeout: float | None = None, progress: bool = True
    ) -> dict:
        """Poll a dataset until its ingest is over; raises if it failed."""
        return self._wait(
            lambda: self.dataset(slug), what=f"dataset {slug}", interval=interval, timeout=timeout, progress=progress
        )

    def export_dataset(self, slug: str, *, export_format: str, out_path: str, progress: bool = True) -> int:
        """Download a dataset as JSONL in ``export_format`` to ``out_path``; returns the number of records."""
        return self._download(
            f"/api/v1/datasets/{slug}/export/", params={"format": export_format}, out_path=out_path, progress=progress
        )

    def download_rejects(self, slug: str, *, out_path: str, progress: bool = True) -> int:
        """Download the records the repair policy skipped (gzipped JSONL) to ``out_path``; returns its bytes."""
        return self._download(f"/api/v1/datasets/{slug}/rejects/", params={}, out_path=out_path, progress=progress, count="bytes")

    def _download(self, url: str, *, params: dict, out_path: str, progress: bool, count: str = "lines") -> int:
        """Stream ``url`` to ``out_path``; returns the lines (or bytes) written.

        The file is written to ``out_path + '.part'`` and renamed at the end: an interrupted
        download never leaves a truncated file under the requested name.
        """
        partial = out_path + ".part"
        total = 0
        try:
            with self._reaching(), self._http.stream("GET", url, params=params, timeout=None) as response:
                if not response.is_success:
                    response.read()
                    self._check(response)
                with open(partial, "wb") as out, byte_bar(total=None, description="download", enabled=progress) as bar:
                    for chunk in response.iter_bytes():
                        out.write(chunk)
                        total += chunk.count(b"\n") if count == "lines" else len(chunk)
                        bar.update(len(chunk))
            os.replace(partial, out_path)
        finally:
            if os.path.exists(partial):
                os.remove(partial)
        return total

    def dataset_info(self, slug: str, *, export_format: str, file_name: str = "") -> dict:
        """The LLaMA-Factory dataset_info.json entry for an export."""
        params = {"format": export_format, **({"file_name": file_name} if file_name else {})}
        return self._json("GET", f"/api/v1/datasets/{slug}/export/dataset_info/", params=params)

    # --- scoring -------------------------------------------------------------------------------

    def scorers(self) -> Any:
        return self._json("GET", "/api/v1/scorers/")

    def start_scoring(self, slug: str, *, scorers: list[dict]) -> dict:
        """Start a scoring run: ``scorers`` is ``[{"name": "mtld", "config": {...}}, ...]``."""
        return self._json("POST", "/api/v1/scoring/runs/", json={"dataset": slug, "scorers": scorers})

    def scoring_run(self, run_id: int | str) -> dict:
        return self._json("GET", f"/api/v1/scoring/runs/{run_id}/")

    def wait_scoring_run(
        self, run_id: int | str, *, interval: float = 2.0, timeout: float | None = None, progress: bool = True
    ) -> dict:
        return self._wait(
            lambda: self.scoring_run(run_id),
            what=f"scoring run {run_id}",
            interval=interval,
            timeout=timeout,
            progress=progress,
        )

    # --- training ------------------------------------------------------------------------------

    def launch_jobs(
        self, *, dataset: str, base_models: list[str], seeds: list[int], recipe: str, benchmarks: list[str]
    ) -> Any:
        body = {
            "dataset": dataset,
            "base_models": base_models,
            "seeds": seeds,
            "recipe": recipe,
            "benchmarks": benchmarks,
        }
        return self._json("POST", "/api/v1/jobs/batch/", json=body)

    def job(self, job_id: int | str) -> dict:
        return self._json("GET", f"/api/v1/jobs/{job_id}/")

    def wait_job(
        self, job_id: int | str, *, interval: float = 5.0, timeout: float | None = None, progress: bool = True
    ) -> dict:
        return self._wait(
            lambda: self.job(job_id), what=f"job {job_id}", interval=interval, timeout=timeout, progress=progress
        )

    # --- leaderboard and lineage ---------------------------------------------------------------

    def leaderboard(self, *, base_model: str, domain: str = "") -> Any:
        return self._json("GET", "/api/v1/leaderboard/", params=_leaderboard_params(base_model, domain))

    def leaderboard_csv(self, *, base_model: str, domain: str = "") -> str:
        params = {**_leaderboard_params(base_model, domain), "format": "csv"}
        return self._request("GET", "/api/v1/leaderboard/", params=params, headers={"Accept": "text/csv"}).text

    def lineage_export(self, slug: str, *, depth: int = 2) -> Any:
        return self._json("GET", "/api/v1/lineage/export/", params={"dataset": slug, "depth": depth})

    # --- polling -------------------------------------------------------------------------------

    def _wait(
        self, fetch: Callable[[], dict], *, what: str, interval: float, timeout: float | None, progress: bool
    ) -> dict:
        """Poll ``fetch`` until its ``status`` is final, showing ``progress`` (0..1); raise on failure or timeout."""
        from tqdm import tqdm

        deadline = None if timeout is None else time.monotonic() + timeout
        with tqdm(total=100, desc=what, unit="%", disable=not progress, leave=False) as bar:
            while True:
                state = fetch()
                status = str(state.get("status", "")).lower()
                fraction = state.get("progress")
                if isinstance(fraction, (int, float)):
                    bar.n = round(max(0.0, min(float(fraction), 1.0)) * 100)
                    bar.set_postfix_str(status)
                    bar.refresh()
                if status in DONE_STATUSES:
                    return state
                if status in FAILED_STATUSES:
                    reason = state.get("error") or "no reason given"
                    raise ArenaClientError(f"{what} {status}: {reason}", code=status)
                if deadline is not None and time.monotonic() > deadline:
                    raise ArenaClientError(
                        f"gave up waiting for {what} after {timeout:g}s (status {status or 'unknown'})"
                    )
                time.sleep(interval)


def _leaderboard_params(base_model: str, domain: str) -> dict:
    return {"base_model": base_model, **({"domain": domain} if domain else {})}
