"""The demo reports in a real headless browser (Debian's Chromium driven by Playwright): no console
errors, no network request, bounded size and height, a working table of contents, findings
filters and triage links, no sideways scrolling; full-page screenshots under the test's temp dir
(and under ``$SYNTHPROOF_SCREENSHOTS`` when set, which is how docs/report-*.jpg are made).

Skipped where no Chromium is installed, unless ``SYNTHPROOF_BROWSER_REQUIRED=1`` (set by .ci/run,
which installs it), when a missing browser fails the test instead."""

from __future__ import annotations

import os
import pathlib
import shutil

import pytest

CHROMIUM = os.environ.get("SYNTHPROOF_CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
if CHROMIUM is None and os.environ.get("SYNTHPROOF_BROWSER_REQUIRED") != "1":
    pytest.skip("no chromium installed (apt-get install -y chromium)", allow_module_level=True)

from playwright.sync_api import sync_playwright  # noqa: E402

WIDTH, SCREEN = 1400, 900  # px: the acceptance's screen
MAX_BYTES, MAX_SCREENS = 2 * 1024 * 1024, 15
#: A heading is on screen (at the top, or as near it as the end of the page lets it go).
IN_VIEW_ANY = ("(() => { var t = document.getElementById('%s').getBoundingClientRect().top; "
               "return t >= -1 && t < window.innerHeight - 40; })()")
IN_VIEW = ("(() => { var t = document.getElementById('%s').getBoundingClientRect().top; "
           "return window.scrollY > 0 && t >= -1 && t < window.innerHeight - 40; })()")


@pytest.fixture(scope="module")
def browser():
    assert CHROMIUM is not None, "SYNTHPROOF_BROWSER_REQUIRED=1 but no chromium is installed"
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        yield b
        b.close()


def _open(browser, path: pathlib.Path):
    page = browser.new_page(viewport={"width": WIDTH, "height": SCREEN})
    problems, requests = [], []
    page.on("console", lambda m: problems.append(m.text) if m.type in ("error", "warning") else None)
    page.on("pageerror", lambda e: problems.append(str(e)))
    page.on("request", lambda r: requests.append(r.url))
    page.goto(path.as_uri())
    page.wait_for_load_state("load")
    return page, problems, requests


def _visible(page) -> list[dict]:
    return page.evaluate("""Array.from(document.querySelectorAll('#findings-table tbody tr'))
        .filter(r => !r.hidden).map(r => ({status: r.dataset.status, check: r.dataset.check,
                                          column: r.dataset.column, family: r.dataset.family}))""")


@pytest.mark.parametrize("which", ["table", "text"])
def test_demo_report_in_a_browser(demo, browser, which, tmp_path):
    path = demo / "report.html" if which == "table" else demo / "text" / "report.html"
    assert path.stat().st_size <= MAX_BYTES
    page, problems, requests = _open(browser, path)
    try:
        assert problems == []
        assert requests == [path.as_uri()]  # self-contained: nothing fetched but the file itself
        height = page.evaluate("document.documentElement.scrollHeight")
        assert height <= MAX_SCREENS * SCREEN, f"{height} px is {height / SCREEN:.1f} screens"
        assert page.evaluate("document.documentElement.scrollWidth") <= WIDTH  # no sideways scrolling

        # Table of contents: every entry leads somewhere; following one scrolls its target to the top.
        hrefs = page.eval_on_selector_all("#toc a", "as => as.map(a => a.getAttribute('href'))")
        assert {"#verdict", "#triage", "#findings", "#manifest"} <= set(hrefs)
        for h in hrefs:  # each entry, followed, brings its target on screen
            page.evaluate("window.scrollTo(0, document.documentElement.scrollHeight)" if h == "#verdict"
                          else "window.scrollTo(0, 0)")
            page.click(f"#toc a[href='{h}']")
            page.wait_for_function(IN_VIEW_ANY % h[1:])
        page.click("#toc a[href='#findings']")
        page.wait_for_function(IN_VIEW % "findings")
        assert page.evaluate("getComputedStyle(document.getElementById('toc')).position") == "sticky"
        assert page.evaluate("document.getElementById('toc').getBoundingClientRect().top") >= -1  # still on screen

        # Findings: fail/warn/error/waived shown, passes collapsed; the filters narrow and widen the rows.
        rows = _visible(page)
        total = page.evaluate("document.querySelectorAll('#findings-table tbody tr').length")
        assert rows and {r["status"] for r in rows} <= {"fail", "warn", "error", "waived"}
        assert page.inner_text("#f-count") == f"{len(rows)} of {total} rows shown"
        page.check("#filters input[value=pass]")
        widened = _visible(page)
        assert len(widened) > len(rows) and "pass" in {r["status"] for r in widened}
        page.uncheck("#filters input[value=pass]")
        fam = rows[0]["family"]
        page.select_option("#f-family", fam)
        assert {r["family"] for r in _visible(page)} == {fam}
        page.select_option("#f-family", "")
        col = next(r["column"] for r in rows if r["column"])
        page.fill("#f-column", col)
        assert all(col.lower() in r["column"].lower() for r in _visible(page)) and _visible(page)
        page.fill("#f-column", "")

        # A triage card opens the table filtered to its check.
        card = page.locator("#triage ~ .cards a[data-check]").first
        check = card.get_attribute("data-check")
        card.click()
        shown = _visible(page)
        assert page.input_value("#f-check") == check and shown and {r["check"] for r in shown} == {check}

        # Row-level evidence and the manifest are reachable from the contents.
        page.click("#toc a[href='#manifest']")
        page.wait_for_function(IN_VIEW % "manifest")
        assert problems == []
        page.reload()  # the report as a reader first sees it (a reload keeps the scroll position)
        page.evaluate("window.scrollTo(0, 0)")
        shot = tmp_path / f"report-{which}.png"
        page.screenshot(path=str(shot), full_page=True)
        assert shot.stat().st_size > 10_000
        keep = os.environ.get("SYNTHPROOF_SCREENSHOTS")
        if keep:
            page.screenshot(path=str(pathlib.Path(keep) / f"report-{which}.jpg"), full_page=True, type="jpeg",
                            quality=50)
    finally:
        page.close()


def test_hostile_labels_stay_text(browser, tmp_path):
    """A column named like markup is shown as text in every place the report puts it."""
    import pandas as pd

    import synthproof
    from synthproof.reports.html import render_html

    evil = "<img src=x onerror=alert(1)>"
    real = pd.DataFrame({evil: list(range(60)) * 2, "b": ["x", "y"] * 60})
    syn = pd.DataFrame({evil: [v + 40 for v in range(60)] * 2, "b": ["x", "y"] * 60})
    res = synthproof.audit(real, syn, config={"suite": "listed", "checks": {"drift.ks": {}, "drift.tvd": {}}})
    path = tmp_path / "r.html"
    path.write_text(render_html(res.findings, res.manifest), encoding="utf-8")
    page, problems, requests = _open(browser, path)
    try:
        assert page.evaluate("document.querySelectorAll('img').length") == 0
        assert evil in page.inner_text("#triage ~ .cards") and problems == [] and requests == [path.as_uri()]
    finally:
        page.close()


def test_compliance_record_in_a_browser(demo, browser, tmp_path):
    """The compliance record of the demo run (signed, with a hostile attestation): no console errors, no
    request but the file, no sideways scrolling, every clause row and datasheet section shown, the
    reviewer's markup shown as text."""
    import shutil

    import yaml
    from click.testing import CliRunner

    from synthproof.cli import cli
    from synthproof.compliance.clauses import CLAUSES
    from synthproof.compliance.datasheet import SECTIONS

    run = tmp_path / "run"
    run.mkdir()
    for f in ("findings.parquet", "manifest.json", "report.html", "summary.json"):
        shutil.copy(demo / f, run / f)
    runner = CliRunner()
    assert runner.invoke(cli, ["provenance", "keygen", "--out", str(tmp_path / "k")]).exit_code == 0
    att = tmp_path / "att.yaml"
    att.write_text(yaml.safe_dump({"clauses": {"Art. 10(2)(a)": "<img src=x onerror=alert(1)> design notes"},
                                   "datasheet": {"uses": "<b>pre-training only</b>"}}))
    r = runner.invoke(cli, ["compliance", str(run), "--key", str(tmp_path / "k"), "--attestations", str(att)])
    assert r.exit_code == 0, r.output
    path = run / "compliance.html"
    page, problems, requests = _open(browser, path)
    try:
        assert problems == [] and requests == [path.as_uri()]
        assert page.evaluate("document.documentElement.scrollWidth") <= WIDTH
        assert page.evaluate("document.querySelectorAll('img, b').length") == 0
        assert "<img src=x onerror=alert(1)> design notes" in page.inner_text("#clauses ~ table")
        assert page.evaluate("document.querySelectorAll('#clauses ~ table tbody tr').length") == len(CLAUSES)
        assert page.evaluate("document.querySelectorAll('dl dt').length") == len(SECTIONS)
        assert "Signed with key" in page.inner_text("#cover")
        page.screenshot(path=str(tmp_path / "compliance.png"), full_page=True)
        keep = os.environ.get("SYNTHPROOF_SCREENSHOTS")
        if keep:
            page.screenshot(path=str(pathlib.Path(keep) / "compliance.jpg"), full_page=True, type="jpeg", quality=50)
    finally:
        page.close()
