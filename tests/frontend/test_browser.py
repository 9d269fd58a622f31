"""End-to-end in headless Chromium (Debian ``chromium`` + the ``playwright`` package; no downloaded browser).

Setup: ``apt-get install -y chromium`` and ``pip install playwright`` (never ``playwright install``).
Run: ``pytest -m browser tests/frontend/test_browser.py``.
"""
from __future__ import annotations

import os
import shutil

import pytest
from django.urls import NoReverseMatch, reverse

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--no-first-run"]
TIMEOUT_MS = 20_000

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def browser_page(live_server, monkeypatch):
    if not shutil.which(CHROMIUM) and not os.path.exists(CHROMIUM):
        pytest.fail(f"{CHROMIUM} is missing: apt-get install -y chromium")
    sync_api = pytest.importorskip("playwright.sync_api", reason="pip install playwright (the Python package)")
    # Playwright's sync API runs an event loop in this thread; the ORM calls the test makes stay synchronous.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        page = browser.new_page()
        page.set_default_timeout(TIMEOUT_MS)
        outside = []
        page.on("request", lambda r: None if r.url.startswith((live_server.url, "data:", "blob:"))
                else outside.append(r.url))
        errors = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        yield page, live_server.url, outside, errors
        browser.close()
    assert outside == [], f"requests left the server (CDN?): {outside[:5]}"


def _login(page, base, username="alice", password="pw-alice-123"):
    page.goto(f"{base}/accounts/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    page.click("button[type=submit], input[type=submit]")
    page.wait_for_load_state()


def test_leaderboard_filter_and_compare(small_board, browser_page):
    page, base, _outside, errors = browser_page
    _login(page, base, "bob", "pw-bob-123")
    page.goto(f"{base}/leaderboard/")
    frame = page.frame_locator("iframe").first
    table = frame.locator("#table")
    table.get_by_text("Alpha", exact=True).wait_for()
    table.get_by_text("Beta", exact=True).wait_for()
    assert table.get_by_text("Tiny (base model)").count() == 1  # the pinned reference row
    assert "Secret" not in table.inner_text()
    frame.locator("#ci-figure .main-svg").first.wait_for()
    # filter by name: Alpha disappears, Beta stays
    frame.locator("#search").fill("bet")
    frame.locator("#search").press("Enter")
    table.get_by_text("Alpha", exact=True).wait_for(state="detached")
    assert table.get_by_text("Beta", exact=True).count() == 1
    assert "search=bet" in frame.locator("#csv").get_attribute("href")
    # comparison page with two datasets preselected from the URL
    page.goto(f"{base}/leaderboard/compare/?datasets=alpha,beta")
    compare = page.frame_locator("iframe").first
    compare.locator("#p-better").get_by_text("1.00").wait_for()
    compare.locator("#bars .main-svg").first.wait_for()
    compare.locator("#radar .main-svg").first.wait_for()
    assert errors == [], errors


def test_genealogy_page(small_board, browser_page):
    try:
        url = reverse("genealogy")
    except NoReverseMatch:
        pytest.skip("the lineage engine has not installed a page named 'genealogy' yet")
    page, base, _outside, errors = browser_page
    _login(page, base)
    response = page.goto(f"{base}{url}")
    assert response.status == 200
    page.wait_for_load_state("networkidle")
    assert "Genealogy" in page.content() or "genealogy" in page.content().lower()
    assert errors == [], errors


def test_upload_through_the_page(small_board, browser_page, tmp_path):
    page, base, _outside, _errors = browser_page
    _login(page, base)
    data = tmp_path / "tiny.jsonl"
    data.write_text('{"instruction": "Say hi", "output": "hi"}\n{"instruction": "Add 1+1", "output": "2"}\n')
    page.goto(f"{base}/datasets/upload/")
    page.set_input_files("input[name=file]", str(data))
    page.fill("input[name=name]", "Browser upload")
    page.click("#upload-form button[type=submit]")
    page.wait_for_url("**/datasets/*/")
    page.get_by_role("heading", name="Browser upload").wait_for()
    assert "/datasets/upload/" not in page.url
    from arena.models import Dataset

    dataset = Dataset.objects.get(name="Browser upload")
    assert dataset.owner.username == "alice" and dataset.status in {"ready", "ingesting", "uploaded"}
