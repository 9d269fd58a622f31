"""The leaderboard builders (shared with tests/leaderboard) and the browser harness of the browser tests.

Browser tests drive Debian's Chromium (``/usr/bin/chromium``) through the ``playwright`` Python package;
never ``playwright install``. Screenshots go to ``var/test-artifacts/screenshots/`` (git-ignored), or to
``$ARENA_TEST_ARTIFACTS/screenshots``.
"""
from __future__ import annotations

import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.leaderboard.conftest import _clear_cache, board, scored_board, small_board  # noqa: F401

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--no-first-run", "--disable-features=Translate,OptimizationHints"]
VIEWPORT = {"width": 1280, "height": 800}
TIMEOUT_MS = 90_000  # the shared test machine can be slow; a real failure still fails
ARTIFACTS = Path(os.environ.get("ARENA_TEST_ARTIFACTS", Path(__file__).resolve().parents[2] / "var" / "test-artifacts"))


@dataclass
class Browser:
    page: object
    base: str
    outside: list[str] = field(default_factory=list)  # requests to anything but this server
    errors: list[str] = field(default_factory=list)  # console errors and uncaught exceptions

    def login(self, username: str = "alice", password: str = "pw-alice-123") -> None:
        self.page.goto(f"{self.base}/accounts/login/")
        self.page.fill("input[name=username]", username)
        self.page.fill("input[name=password]", password)
        self.page.click("#login-form button[type=submit]")
        self.page.wait_for_load_state()

    def screenshot(self, name: str) -> Path:
        path = ARTIFACTS / "screenshots" / f"{name}.png"
        path.parent.mkdir(parents=True, exist_ok=True)
        self.page.screenshot(path=str(path), full_page=True)
        return path

    def assert_clean(self) -> None:
        assert self.errors == [], f"console errors: {self.errors[:5]}"
        assert self.outside == [], f"requests left the server: {self.outside[:5]}"


@pytest.fixture
def browser(live_server, monkeypatch):
    if not shutil.which(CHROMIUM) and not os.path.exists(CHROMIUM):
        pytest.fail(f"{CHROMIUM} is missing: apt-get install -y chromium")
    sync_api = pytest.importorskip("playwright.sync_api", reason="pip install playwright (the Python package)")
    # Playwright's sync API runs an event loop in this thread; the ORM calls the test makes stay synchronous.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    base = live_server.url
    with sync_api.sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        context = chromium.new_context(viewport=VIEWPORT)
        page = context.new_page()
        page.set_default_timeout(TIMEOUT_MS)
        b = Browser(page=page, base=base)
        local = (base + "/", "data:", f"blob:{base}/")
        context.on("request", lambda r: None if r.url.startswith(local) or r.url == base else b.outside.append(r.url))
        page.on("console", lambda m: b.errors.append(f"{m.text} @ {m.location.get('url', '')}")
                if m.type == "error" else None)
        page.on("pageerror", lambda exc: b.errors.append(f"uncaught: {exc}"))
        yield b
        chromium.close()
