"""End-to-end in headless Chromium at 1280x800 (Debian ``chromium`` + the ``playwright`` package).

Every page: zero console errors, zero requests to anything but this server, nothing of its main tables
clipped (each cell inside the viewport or inside a scroll container, and its text not cut), and a
full-page screenshot in ``var/test-artifacts/screenshots/``. Every link inside the Dash apps is clicked
and the navigation checked (external source links are checked by their href, never followed: the test
must not leave the machine).

Run: ``pytest -m browser tests/frontend/test_browser.py`` (never ``playwright install``).
"""
from __future__ import annotations

import re

import pytest

from tests.frontend.showcase import build

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

COMPARE = "/leaderboard/compare/?datasets=alpaca-gpt4,openhermes-math,metamathqa-40k"
DASH_READY = {  # a selector (inside the app's iframe) that exists once the app has drawn its data
    "arena-leaderboard": "#table td.dash-cell",
    "arena-compare": "#p-better td.dash-cell",
    "arena-predictors": "#pred-heatmap .main-svg",
    "genealogy": "#graph canvas",
}
CLIPPING_JS = """(selector) => {
  const vw = document.documentElement.clientWidth, out = [];
  const scroller = (el) => {
    for (let p = el.parentElement; p; p = p.parentElement) {
      const s = getComputedStyle(p);
      if (s.overflowX === 'auto' || s.overflowX === 'scroll') return p;
    }
    return null;
  };
  for (const el of document.querySelectorAll(selector)) {
    const r = el.getBoundingClientRect();
    if (r.width === 0 || r.height === 0) continue;  // not rendered (e.g. the hidden copy of fixed columns)
    const sc = scroller(el), box = sc ? sc.getBoundingClientRect() : r;
    const inside = box.left >= -1 && box.right <= vw + 1;
    const style = getComputedStyle(el);
    const cut = style.overflowX !== 'visible' && el.scrollWidth > el.clientWidth + 1;
    if (!inside || cut) {
      out.push(`${el.tagName.toLowerCase()} "${el.textContent.trim().slice(0, 40)}" x=[${Math.round(r.left)}, ` +
               `${Math.round(r.right)}] of ${vw}` + (cut ? ' (text cut)' : '') + (sc ? ' in a scroller' : ''));
    }
  }
  return out;
}"""
PAGE_TABLES = "main table.grid th, main table.grid td, .lineage-item, .panel, .radar, iframe.dash-iframe, .card"
FRAME_TABLES = "td.dash-cell, th.dash-header"
CY_JS = """() => {
  for (const el of document.querySelectorAll('#graph, #graph *')) { if (el._cyreg) return el._cyreg.cy; }
  return null;
}"""


def _frame(b, app: str):
    return b.page.locator(f'iframe[data-app="{app}"]').element_handle().content_frame()


def _wait_dash(b, apps: list[str]) -> None:
    for app in apps:
        frame = _frame(b, app)
        frame.wait_for_selector(DASH_READY[app], state="attached")
        if app == "genealogy":
            frame.wait_for_function(f"() => {{ const cy = ({CY_JS})(); return cy && cy.nodes().length > 0; }}")
        # the iframe has grown to its content: no inner scrolling, nothing hidden below
        b.page.wait_for_function(
            """(app) => { const f = document.querySelector(`iframe[data-app="${app}"]`);
                          const d = f.contentDocument; if (!d || !d.body) return false;
                          return Math.abs(f.getBoundingClientRect().height - d.body.getBoundingClientRect().height) < 2
                                 && d.documentElement.scrollHeight <= f.clientHeight + 2; }""", arg=app)
    b.page.wait_for_load_state("networkidle")


def _assert_nothing_clipped(b, apps: list[str]) -> None:
    clipped = b.page.evaluate(CLIPPING_JS, PAGE_TABLES)
    for app in apps:
        frame = _frame(b, app)
        clipped += [f"{app}: {c}" for c in frame.evaluate(CLIPPING_JS, FRAME_TABLES)]
        width = frame.evaluate("() => [document.documentElement.scrollWidth, document.documentElement.clientWidth]")
        assert width[0] <= width[1] + 1, f"{app} is wider than its frame: {width}"
    assert clipped == [], clipped[:8]


PAGES = [  # name, url, Dash apps on it
    ("datasets", "/datasets/", []),
    ("dataset-card", "/datasets/openhermes-math/", []),
    ("upload", "/datasets/upload/", []),
    ("leaderboard", "/leaderboard/", ["arena-leaderboard"]),
    ("compare", COMPARE, ["arena-compare", "arena-predictors"]),
    ("genealogy", "/lineage/", ["genealogy"]),
    ("scoring", "/scoring/", []),
    ("jobs", "/jobs/", []),
    ("job-launch", "/jobs/launch/", []),
    ("api-swagger", "/api/schema/swagger/", []),
    ("api-redoc", "/api/schema/redoc/", []),
    ("admin", "/admin/", []),
]


def test_every_page_is_clean_unclipped_and_screenshotted(browser, user):
    build(alice=user)
    user.is_staff = user.is_superuser = True
    user.save()
    browser.login()
    for name, url, apps in PAGES:
        response = browser.page.goto(browser.base + url)
        assert response.status == 200, (url, response.status)
        browser.page.wait_for_load_state("networkidle")
        _wait_dash(browser, apps)
        if name == "api-redoc":
            browser.page.wait_for_selector("#redoc-container h1")
        _assert_nothing_clipped(browser, apps)
        assert browser.screenshot(name).stat().st_size > 10_000
        browser.assert_clean()


def test_every_leaderboard_link_navigates_and_rows_expand(browser, user):
    data = build(alice=user)
    browser.login("bob", "pw-bob-123")
    page = browser.page
    page.goto(browser.base + "/leaderboard/")
    _wait_dash(browser, ["arena-leaderboard"])
    frame = _frame(browser, "arena-leaderboard")
    hrefs = sorted(set(frame.eval_on_selector_all("#table a[href^='/datasets/']",
                                                  "els => els.map(e => e.getAttribute('href'))")))
    visible = {d.slug for d in data["datasets"].values() if d.visibility == "public"}
    assert hrefs == sorted(f"/datasets/{slug}/" for slug in visible)  # bob never sees the private one
    # source links point at the datasets' sources (not followed: the test must not leave the machine)
    sources = frame.eval_on_selector_all("#table a[href^='http']", "els => els.map(e => [e.href, e.target])")
    assert {h for h, _ in sources} == {d.source_url for d in data["datasets"].values() if d.source_url
                                       and d.visibility == "public"}
    for href in hrefs:
        page.goto(browser.base + "/leaderboard/")
        _wait_dash(browser, ["arena-leaderboard"])
        frame = _frame(browser, "arena-leaderboard")
        frame.locator(f"#table a[href='{href}']").locator("visible=true").first.click()
        page.wait_for_url(f"**{href}")
        slug = href.strip("/").split("/")[-1]
        assert page.locator("h1").inner_text().startswith(data["datasets"][slug].name)
    # the CSV link serves the board as CSV
    page.goto(browser.base + "/leaderboard/")
    _wait_dash(browser, ["arena-leaderboard"])
    frame = _frame(browser, "arena-leaderboard")
    csv = page.request.get(browser.base + frame.get_attribute("#csv", "href"))
    assert csv.ok and "text/csv" in csv.headers["content-type"] and "openhermes-math" in csv.text()
    # ▸ opens the row's per-benchmark scores with intervals, inline; ▾ closes them
    frame.locator("#table td.dash-cell[data-dash-column='expand']").locator("visible=true").nth(1).click()
    frame.wait_for_selector("#table >> text=Per benchmark (mean over seeds)")
    table_text = frame.locator("#table").inner_text()
    assert "ARC-Easy" in table_text and "GSM8K-mini" in table_text and re.search(r"\[0\.\d\d, 0\.\d\d\]", table_text)
    _assert_nothing_clipped(browser, ["arena-leaderboard"])
    browser.screenshot("leaderboard-expanded")
    frame.locator("#table td.dash-cell[data-dash-column='expand']").locator("visible=true").nth(1).click()
    frame.wait_for_selector("#table >> text=Per benchmark (mean over seeds)", state="detached")
    # filter by name
    frame.locator("#search").fill("orca")
    frame.locator("#search").press("Enter")
    frame.wait_for_selector("#table >> text=Alpaca-GPT4 (cleaned)", state="detached")
    assert "Orca-Math 200k" in frame.locator("#table").inner_text()
    browser.assert_clean()


def _node_click(b, node_id: str, *, hover: bool = False) -> None:
    frame = _frame(b, "genealogy")
    pos = frame.evaluate(f"""(id) => {{ const cy = ({CY_JS})(); const p = cy.getElementById(id).renderedPosition();
                                       const box = cy.container().getBoundingClientRect();
                                       const outer = document.querySelector('#graph').getBoundingClientRect();
                                       return {{x: p.x + box.left - outer.left, y: p.y + box.top - outer.top}}; }}""",
                         node_id)
    target = frame.locator("#graph")
    (target.hover if hover else target.click)(position=pos)


def test_genealogy_links_hover_filters_and_card(browser, user):
    data = build(alice=user)
    browser.login()
    page = browser.page

    def open_card(slug: str):
        page.goto(browser.base + "/lineage/")
        _wait_dash(browser, ["genealogy"])
        _node_click(browser, slug)
        frame = _frame(browser, "genealogy")
        frame.wait_for_selector(f"#card h3 a[href='/datasets/{slug}/']")
        return frame

    frame = open_card("openhermes-math")  # the preselected target, the dataset with the most edges
    assert frame.locator("#card table").count() >= 3  # parents, contamination/leaderboard, scores as tables
    card_links = frame.eval_on_selector_all("#card a", "els => els.map(e => e.getAttribute('href'))")
    assert "/datasets/metamathqa-40k/" in card_links and "/datasets/evol-instruct-70k/" in card_links
    browser.screenshot("genealogy-card")
    for href in card_links:
        frame = open_card("openhermes-math")
        frame.locator(f"#card a[href='{href}']").first.click()
        page.wait_for_url(f"**{href}")
        slug = href.strip("/").split("/")[-1]
        assert page.locator("h1").inner_text().startswith(data["datasets"][slug].name)
    # hover: the contamination behind a badge
    page.goto(browser.base + "/lineage/")
    _wait_dash(browser, ["genealogy"])
    _node_click(browser, "metamathqa-40k", hover=True)
    frame = _frame(browser, "genealogy")
    frame.wait_for_selector("#hover >> text=gsm8k-mini: 9/200 items")
    # filters: hide inferred edges
    frame.locator("#origins label", has_text="inferred").click()
    frame.wait_for_selector("#message >> text=hidden by the filters")
    assert frame.evaluate(f"() => ({CY_JS})().edges('.origin-inferred').length") == 0
    browser.assert_clean()


def test_genealogy_is_readable_at_fifty_nodes(browser, user):
    from arena.models import Dataset
    from lineage.models import LineageEdge

    def ds(slug):
        return Dataset.objects.create(name=slug.replace("-", " ").title(), slug=slug, owner=user, status="ready",
                                      sample_count=1000)

    root = ds("root-corpus")
    for i in range(7):
        mid = ds(f"family-{i}-filtered")
        LineageEdge.objects.create(child=mid, parent=root, relation="subset", origin="declared")
        for k in range(6):
            leaf = ds(f"family-{i}-derived-{k}")
            LineageEdge.objects.create(child=leaf, parent=mid, relation="synthetic" if k % 2 else "subset",
                                       origin="inferred" if k % 3 == 0 else "declared", confidence=0.5 + k / 20)
    browser.login()
    browser.page.goto(browser.base + "/lineage/?dataset=root-corpus&depth=3")
    _wait_dash(browser, ["genealogy"])
    frame = _frame(browser, "genealogy")
    frame.wait_for_function(f"() => ({CY_JS})().nodes().length === 50")
    # the canvas has grown to the tallest generation and cytoscape has been told (resize + fit run together)
    frame.wait_for_function(f"""() => {{ const cy = ({CY_JS})(), h = document.querySelector('#graph').clientHeight;
                                        return h > 1000 && Math.abs(cy.height() - h) < 5; }}""")
    report = frame.evaluate(f"""() => {{
        const cy = ({CY_JS})(), boxes = cy.nodes().map(n => n.boundingBox({{includeLabels: true}}));
        let overlaps = 0;
        for (let i = 0; i < boxes.length; i++) for (let j = i + 1; j < boxes.length; j++) {{
            const a = boxes[i], b = boxes[j];
            if (a.x1 < b.x2 && b.x1 < a.x2 && a.y1 < b.y2 && b.y1 < a.y2) overlaps++;
        }}
        return {{overlaps, zoom: cy.zoom(), font: parseFloat(cy.nodes()[0].style('font-size'))}};
    }}""")
    assert report["overlaps"] == 0, report
    assert report["font"] * report["zoom"] >= 10, report  # labels at a legible size as first shown
    _assert_nothing_clipped(browser, ["genealogy"])
    browser.screenshot("genealogy-50-nodes")
    browser.assert_clean()


def test_upload_through_the_page(browser, user, tmp_path):
    browser.login()
    page = browser.page
    data = tmp_path / "tiny.jsonl"
    data.write_text('{"instruction": "Say hi", "output": "hi"}\n{"instruction": "Add 1+1", "output": "2"}\n')
    page.goto(f"{browser.base}/datasets/upload/")
    page.click("#upload-form button[type=submit]")  # nothing filled: the browser's own validation stops it
    assert "/datasets/upload/" in page.url
    page.set_input_files("input[name=file]", str(data))
    page.fill("input[name=name]", "Browser upload")
    page.click("#upload-form button[type=submit]")
    page.wait_for_url("**/datasets/*/")
    page.get_by_role("heading", name="Browser upload").wait_for()
    from arena.models import Dataset

    dataset = Dataset.objects.get(name="Browser upload")
    assert dataset.owner.username == "alice" and dataset.status in {"ready", "ingesting", "uploaded"}
    browser.assert_clean()
