"""Where the CLI finds its server and token: ARENA_URL/ARENA_TOKEN, else ~/.config/arena/config.json."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

from arena.client.errors import ArenaClientError


def config_path() -> Path:
    base = os.environ.get("XDG_CONFIG_HOME") or os.path.join(os.path.expanduser("~"), ".config")
    return Path(base) / "arena" / "config.json"


@dataclass(frozen=True)
class Credentials:
    url: str
    token: str


def credentials_load() -> Credentials:
    """The server and token to use: environment variables win over the saved login."""
    saved: dict = {}
    path = config_path()
    if path.exists():
        try:
            saved = json.loads(path.read_text())
        except (OSError, ValueError) as exc:
            raise ArenaClientError(f"cannot read {path}: {exc}; run arena login again") from None
        if not isinstance(saved, dict):
            raise ArenaClientError(f"{path} is not a JSON object; run arena login again")
    url = os.environ.get("ARENA_URL") or saved.get("url") or ""
    token = os.environ.get("ARENA_TOKEN") or saved.get("token") or ""
    if not url:
        raise ArenaClientError("no Arena server configured: run arena login --url URL --username U, or set ARENA_URL")
    return Credentials(url=url, token=token)


def credentials_save(*, url: str, token: str) -> Path:
    """Save the login, readable by the user only (it holds an API token)."""
    path = config_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".part")
    fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        json.dump({"url": url, "token": token}, handle, indent=2)
    os.replace(partial, path)
    return path
