"""The web page in a real browser: Debian's headless Chromium driven by Playwright, against `ccproc dev`
(Azurite, the API serving the page, both workers) started as a user starts it.

One story, step by step, as finance staff would go through it: refuse a wrong file, upload a statement
(request body) and a receipts report (blocks to a SAS URL, one block failing once on the way), watch
the session complete, filter the exceptions, add an alias and see the count change, download the
workbook and open it. Screenshots of each step go to `out/test-artifacts/web/`. Every page fails its
test on anything its Content-Security-Policy refuses; one test shows the policy is enforced at all.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from reportlab.pdfgen import canvas

from tests.azurite import Azurite, free_port
from tests.builders.month import build_month
from tests.conftest import WEB_ARTIFACTS
from tests.test_cli_serve import K1, serving

CCPROC = str(Path(sys.executable).with_name("ccproc"))
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
ARTIFACTS = WEB_ARTIFACTS  # emptied once per run by the `web_artifacts` fixture (tests/conftest.py)
# A closed network: no background connections, no first-run work (they would time out here).
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
BODY_LIMIT = 200_000  # below the receipts report, so it takes the block path
BLOCK = 64 * 1024  # the smallest block size the settings allow
CARD_NUMBER = re.compile(r"(?<!\d)(?:\d[ -]?){15}\d(?!\d)")
TIMEOUT_MS = 120_000
# What the focused element is, and how its focus shows.
FOCUSED = """() => {
    const el = document.activeElement, style = getComputedStyle(el);
    return {id: el.dataset.testid || "", tag: el.tagName, href: el.getAttribute("href") || "",
            outline: style.outlineStyle + " " + style.outlineWidth, shadow: style.boxShadow};
}"""

# Reports each refusal of the page's Content-Security-Policy to the test (see `watch_policy`).
VIOLATIONS = """document.addEventListener("securitypolicyviolation", (e) =>
    window.cspViolation(`${e.effectiveDirective} refused ${e.blockedURI || "inline"}: ${e.sample}`));"""

playwright_sync = pytest.importorskip("playwright.sync_api", reason="playwright is in requirements-dev.txt")


@pytest.fixture(scope="module")
def month(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    """A generated month whose receipts need aliases, with its truth."""
    folder = tmp_path_factory.mktemp("web-month")
    truth = build_month(folder, size="small", seed=5)
    assert truth["aliases"]
    assert (folder / "receipts.pdf").stat().st_size > BODY_LIMIT + 2 * BLOCK
    assert (folder / "statement.pdf").stat().st_size < BODY_LIMIT
    return folder, truth


@pytest.fixture(scope="module")
def dev(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """`ccproc dev` on a free port; its URL. Stopped with Ctrl-C (SIGINT) as a user stops it."""
    data = tmp_path_factory.mktemp("web-dev")
    port = free_port()
    env = {**os.environ, "MAX_UPLOAD_BYTES": str(BODY_LIMIT), "UPLOAD_BLOCK_BYTES": str(BLOCK)}
    process = subprocess.Popen(
        [CCPROC, "dev", "--port", str(port), "--data", str(data)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"{url}/api/health", timeout=2):  # noqa: S310 — loopback only
                    break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    logs = "\n".join(p.read_text()[-1500:] for p in (data / "logs").glob("*.log"))
                    pytest.fail(f"ccproc dev did not come up:\n{logs}")
                time.sleep(0.3)
        yield url
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()


@pytest.fixture(scope="module")
def browser(web_artifacts: Path) -> Iterator[Any]:
    """Headless Chromium from Debian's package (fails, never skips, when it is missing)."""
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: `make test` installs Debian's chromium", pytrace=False)
    with playwright_sync.sync_playwright() as driver:
        instance = driver.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            yield instance
        finally:
            instance.close()


def watch_policy(context: Any) -> list[str]:
    """The Content-Security-Policy violations of every page of `context`, as they happen (a
    `securitypolicyviolation` listener on each document, reporting through a Playwright binding)."""
    violations: list[str] = []
    context.expose_binding("cspViolation", lambda _source, text: violations.append(text))
    context.add_init_script(VIOLATIONS)
    return violations


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    """A fresh page at 1280x800 that fails the test on any uncaught script error and on anything its
    Content-Security-Policy refuses."""
    context = browser.new_context(viewport={"width": 1280, "height": 800}, accept_downloads=True)
    violations = watch_policy(context)
    page = context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("console", lambda m: errors.append(m.text) if "Content Security Policy" in m.text else None)
    yield page
    context.close()
    assert not errors, errors
    assert not violations, violations


def own_copies(folder: Path, tmp_path: Path) -> list[str]:
    """The month's two PDFs as files of this test alone (a comment line after the end makes each
    copy's content new), so the page never finds them in an earlier test's session."""
    paths = []
    for name in ("statement.pdf", "receipts.pdf"):
        copy = tmp_path / name
        copy.write_bytes((folder / name).read_bytes() + f"%{secrets.token_hex(8)}\n".encode())
        paths.append(str(copy))
    return paths


def shot(page: Any, name: str) -> None:
    """Save a full-page screenshot as a test artifact."""
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def no_card_number(page: Any) -> None:
    """Neither the visible text nor the markup holds anything shaped like a full card number."""
    for text in (page.inner_text("body"), page.content()):
        assert not CARD_NUMBER.search(re.sub(r"\d{17,}", "", text)), CARD_NUMBER.search(text)


def test_a_file_that_is_not_a_pdf_is_refused_before_upload(dev: str, page: Any, tmp_path: Path) -> None:
    """PNG bytes named `.pdf` are refused in the browser with a sentence, and nothing is sent."""
    fake = tmp_path / "receipts.pdf"
    fake.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(4096))
    sent: list[str] = []
    page.on("request", lambda r: sent.append(r.url) if r.method in ("PUT", "POST") else None)
    page.goto(dev)
    page.get_by_test_id("file-input").set_input_files(str(fake))
    error = page.get_by_test_id("file-row").filter(has_text="receipts.pdf").get_by_test_id("file-error")
    playwright_sync.expect(error).to_contain_text("PDF")
    assert not sent
    shot(page, "01-refused-not-a-pdf")


def test_upload_follow_review_alias_and_download(
    dev: str, page: Any, month: tuple[Path, dict[str, Any]], tmp_path: Path
) -> None:
    """The whole story of one month, in the browser, against the real local pipeline."""
    folder, truth = month
    expect = playwright_sync.expect

    # A network blip: the second block of the receipts report fails once, then goes through.
    failed_once: list[str] = []

    blocks: list[str] = []

    def flaky(route: Any) -> None:
        if route.request.method == "PUT" and "blockid=" in route.request.url:
            blocks.append(route.request.url)
            if len(blocks) == 2 and not failed_once:
                failed_once.append(route.request.url)
                route.abort("connectionreset")
                return
        route.continue_()

    page.route(re.compile(r".*comp=block.*"), flaky)
    page.goto(dev)
    expect(page).to_have_title(re.compile("Credit Card Processor"))
    page.get_by_test_id("session-name-input").fill("March cards")
    page.get_by_test_id("file-input").set_input_files(own_copies(folder, tmp_path))
    rows = page.get_by_test_id("file-row")
    expect(rows).to_have_count(2)
    shot(page, "02-files-chosen")
    page.get_by_test_id("start-upload").click()

    # Upload, extraction, reconciliation: the page follows without a reload.
    expect(page.get_by_test_id("session-status")).to_have_text("Completed", timeout=180_000)
    assert failed_once, "the failing block was never tried: the receipts did not take the block path"
    # The failed block was sent again, and no other block twice.
    assert blocks.count(failed_once[0]) == 2
    assert len(blocks) == len(set(blocks)) + 1
    for phase in ("upload", "extraction", "reconciliation"):
        expect(page.get_by_test_id(f"phase-{phase}")).to_have_attribute("data-state", "done")
    shot(page, "03-session-completed")
    no_card_number(page)

    # The exceptions: every transaction that is not Complete, filterable.
    exceptions = page.get_by_test_id("exception-row")
    expect(page.get_by_test_id("count-exceptions")).to_have_text(re.compile(r"\d+"))
    before = int(page.get_by_test_id("count-exceptions").inner_text())
    expect(exceptions).to_have_count(before)
    page.get_by_test_id("exception-status-filter").select_option("Missing Both")
    for status in exceptions.evaluate_all("rows => rows.map(r => r.dataset.status)"):
        assert status == "Missing Both"
    shot(page, "04-exceptions-filtered")
    page.get_by_test_id("exception-status-filter").select_option("")
    page.get_by_test_id("sort-amount").click()
    expect(page.get_by_test_id("sort-amount").locator("xpath=..")).to_have_attribute(
        "aria-sort", re.compile("ascending|descending")
    )

    # An alias for a name that reaches nobody: the reconciliation runs again and the count changes.
    unresolved_before = int(page.get_by_test_id("count-unresolved").inner_text())
    name, cardholder = next(iter(truth["aliases"].items()))
    row = page.locator(f'[data-testid="unresolved-row"][data-normalized="{name}"]')
    expect(row).to_have_count(1)
    field = row.get_by_test_id("alias-cardholder")
    if field.evaluate("el => el.tagName") == "SELECT":
        field.select_option(cardholder)
    else:
        field.fill(cardholder)
    shot(page, "05-alias-chosen")
    row.get_by_test_id("add-alias").click()
    expect(page.get_by_test_id("count-unresolved")).not_to_have_text(str(unresolved_before), timeout=120_000)
    expect(page.get_by_test_id("session-status")).to_have_text("Completed", timeout=120_000)
    assert int(page.get_by_test_id("count-unresolved").inner_text()) < unresolved_before
    shot(page, "06-after-alias")

    # Downloads: the workbook opens with its sheets.
    with page.expect_download() as download_info:
        page.get_by_test_id("download-exceptions").click()
    saved = tmp_path / download_info.value.suggested_filename
    download_info.value.save_as(saved)
    assert saved.name == "exceptions.xlsx"
    workbook = openpyxl.load_workbook(saved, read_only=True)
    assert {"Summary", "Exceptions", "Transactions", "Unmatched Expenses"} <= set(workbook.sheetnames)
    workbook.close()
    for name in ("pvault", "transactions", "receipts", "reconciliation"):
        expect(page.get_by_test_id(f"download-{name}")).to_be_visible()

    # The sessions list keeps it (it lives on the server): rename it there.
    page.goto(dev)
    session_row = page.get_by_test_id("session-row").filter(has_text="March cards")
    expect(session_row).to_have_count(1)
    shot(page, "07-sessions-list")


def api(dev: str, method: str, path: str, payload: dict[str, Any] | None = None) -> Any:
    """One JSON call to the API, as any client makes it."""
    body = json.dumps(payload).encode() if payload is not None else None
    request = urllib.request.Request(  # noqa: S310 — loopback only
        f"{dev}{path}", data=body, method=method, headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=30) as answer:  # noqa: S310
        return json.loads(answer.read())


@pytest.fixture(scope="module")
def completed(dev: str, month: tuple[Path, dict[str, Any]], tmp_path_factory: pytest.TempPathFactory) -> str:
    """The id of a session submitted with `ccproc submit` and completed."""
    folder, _ = month
    before = {s["id"] for s in api(dev, "GET", "/api/sessions")["sessions"]}
    out = tmp_path_factory.mktemp("submitted")
    pdfs = [str(folder / "statement.pdf"), str(folder / "receipts.pdf")]
    done = subprocess.run(
        [
            CCPROC,
            "submit",
            *pdfs,
            "--out",
            str(out),
            "--api",
            dev,
            "--quiet",
            "--direct-max",
            str(BODY_LIMIT),
            # The upload story may have sent the same month already.
            "--allow-duplicate",
        ],
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    (session_id,) = {s["id"] for s in api(dev, "GET", "/api/sessions")["sessions"]} - before
    return str(session_id)


@pytest.mark.parametrize(("width", "height"), [(1280, 800), (375, 812)])
def test_session_page_fits_the_screen(
    browser: Any, dev: str, completed: str, width: int, height: int
) -> None:
    """A completed session reads at desktop and phone width: nothing wider than the screen, every report
    one click away, no full card number."""
    context = browser.new_context(viewport={"width": width, "height": height})
    page = context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    try:
        page.goto(f"{dev}/#/sessions/{completed}")
        playwright_sync.expect(page.get_by_test_id("session-status")).to_have_text("Completed")
        playwright_sync.expect(page.get_by_test_id("exceptions-table")).to_be_visible()
        overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 1, f"the page is {overflow}px wider than a {width}px screen"
        for name in ("exceptions", "pvault", "transactions", "receipts", "reconciliation"):
            playwright_sync.expect(page.get_by_test_id(f"download-{name}")).to_be_attached()
        no_card_number(page)
        shot(page, f"08-session-{width}x{height}")
    finally:
        context.close()


def test_a_finished_session_shows_where_its_time_went(dev: str, completed: str, page: Any) -> None:
    """The completed session's timeline: each file's upload and reading, the matching and the
    reports, each with when it began and how long it took, as the timeline API says."""
    page.goto(f"{dev}/#/sessions/{completed}")
    rows = page.get_by_test_id("timeline-row")
    playwright_sync.expect(page.get_by_test_id("timeline")).to_be_visible()
    entries = api(dev, "GET", f"/api/sessions/{completed}/timeline")["entries"]
    playwright_sync.expect(rows).to_have_count(len(entries))
    steps = [rows.nth(i).get_attribute("data-step") for i in range(len(entries))]
    assert steps == [e["step"] for e in entries]
    assert steps.count("extraction") == 2
    reading = page.locator('[data-testid="timeline-row"][data-step="extraction"]').first
    playwright_sync.expect(reading).to_contain_text(re.compile(r"Reading the file.*\.pdf.*\d s"))
    playwright_sync.expect(page.get_by_test_id("timeline")).to_contain_text("From opening the session")
    shot(page, "10-session-timeline")


def test_everything_on_the_start_page_is_reachable_by_keyboard(dev: str, page: Any) -> None:
    """Tab from the top reaches a skip link first, then the session name and the file picker, each
    focused element showing a visible focus indicator."""
    page.goto(dev)
    playwright_sync.expect(page.get_by_test_id("file-input")).to_be_attached()
    seen: list[dict[str, str]] = []
    for _ in range(25):
        page.keyboard.press("Tab")
        seen.append(page.evaluate(FOCUSED))
    assert seen[0]["tag"] == "A", seen[0]
    assert seen[0]["href"].startswith("#"), seen[0]
    reached = {item["id"] for item in seen}
    assert "session-name-input" in reached
    assert {"file-input", "drop-zone"} & reached
    for item in seen:
        if item["tag"] != "BODY":
            assert item["outline"] not in ("none 0px",) or item["shadow"] != "none", item


def test_sessions_list_filters_renames_and_deletes(dev: str, page: Any) -> None:
    """Sessions made through the API are listed; the text and status filters narrow the list; a rename
    sticks across a reload; a delete (confirmed) removes the session from the server."""
    tag = secrets.token_hex(3)
    keep = api(dev, "POST", "/api/sessions", {"name": f"Keep {tag}"})
    drop = api(dev, "POST", "/api/sessions", {"name": f"Drop {tag}"})
    page.goto(dev)
    rows = page.get_by_test_id("session-row")
    page.get_by_test_id("text-filter").fill(tag)
    playwright_sync.expect(rows).to_have_count(2)
    page.get_by_test_id("text-filter").fill(f"Keep {tag}")
    playwright_sync.expect(rows).to_have_count(1)
    page.get_by_test_id("text-filter").fill(tag)
    page.get_by_test_id("status-filter").select_option("completed")
    playwright_sync.expect(rows).to_have_count(0)
    page.get_by_test_id("status-filter").select_option("open")
    playwright_sync.expect(rows).to_have_count(2)
    shot(page, "09-sessions-filtered")

    row = page.locator(f'[data-testid="session-row"][data-id="{keep["id"]}"]')
    row.get_by_test_id("rename-button").click()
    page.get_by_test_id("rename-input").fill(f"Renamed {tag}")
    page.get_by_test_id("rename-input").press("Enter")
    playwright_sync.expect(row).to_contain_text(f"Renamed {tag}")
    page.reload()
    page.get_by_test_id("text-filter").fill(f"Renamed {tag}")
    playwright_sync.expect(rows).to_have_count(1)
    assert api(dev, "GET", f"/api/sessions/{keep['id']}")["name"] == f"Renamed {tag}"

    page.get_by_test_id("text-filter").fill(f"Drop {tag}")
    page.locator(f'[data-testid="session-row"][data-id="{drop["id"]}"]').get_by_test_id(
        "delete-button"
    ).click()
    page.get_by_test_id("confirm-delete").click()
    playwright_sync.expect(rows).to_have_count(0)
    with pytest.raises(urllib.error.HTTPError) as missing:
        api(dev, "GET", f"/api/sessions/{drop['id']}")
    missing.value.close()
    assert missing.value.code == 404


def test_api_errors_are_shown_as_sentences(dev: str, page: Any) -> None:
    """A session that does not exist shows the API's message as a sentence in the alert, not JSON."""
    page.goto(f"{dev}/#/sessions/{'0' * 32}")
    alert = page.get_by_test_id("alert")
    playwright_sync.expect(alert).to_contain_text("session", timeout=20_000)
    text = alert.inner_text()
    assert "{" not in text
    assert "error" not in text.lower() or " " in text
    shot(page, "10-error-sentence")


def test_an_upload_stopped_by_storage_resumes_where_it_stopped(
    dev: str, page: Any, month: tuple[Path, dict[str, Any]], tmp_path: Path
) -> None:
    """Storage refuses one block (as for a link that ran out): the file's row says so and offers Resume;
    Resume gets a fresh link for the same file and sends only the blocks not yet stored; the session
    ends with its two files and completes."""
    folder, _ = month
    sent: list[str] = []
    refused: list[str] = []

    def refuse_third(route: Any) -> None:
        if route.request.method == "PUT" and "blockid=" in route.request.url:
            block = re.search(r"blockid=([^&]+)", route.request.url)
            assert block
            sent.append(block.group(1))
            if len(sent) == 3 and not refused:
                refused.append(block.group(1))
                route.fulfill(status=403, body="AuthenticationFailed")
                return
        route.continue_()

    page.route(re.compile(r".*comp=block.*"), refuse_third)
    page.goto(dev)
    page.get_by_test_id("session-name-input").fill("Resumed upload")
    page.get_by_test_id("file-input").set_input_files(own_copies(folder, tmp_path))
    page.get_by_test_id("start-upload").click()
    row = page.locator('[data-testid="file-row"][data-name="receipts.pdf"]')
    playwright_sync.expect(row.get_by_test_id("file-error")).to_be_visible()
    playwright_sync.expect(row.get_by_test_id("resume-upload")).to_be_visible()
    shot(page, "11-upload-stopped")
    row.get_by_test_id("resume-upload").click()
    playwright_sync.expect(page.get_by_test_id("session-status")).to_have_text("Completed", timeout=180_000)
    assert refused
    # Every block went once, but the refused one twice.
    assert sorted(sent) == sorted([*set(sent), refused[0]])
    session_id = page.url.rsplit("/", 1)[-1]
    files = api(dev, "GET", f"/api/sessions/{session_id}")["files"]
    assert sorted((f["name"], f["status"]) for f in files) == [
        ("receipts.pdf", "extracted"),
        ("statement.pdf", "extracted"),
    ]
    shot(page, "12-resumed-completed")


def test_a_stopped_upload_can_be_removed_and_the_rest_goes_on(
    dev: str, page: Any, month: tuple[Path, dict[str, Any]], tmp_path: Path
) -> None:
    """Storage refuses the receipts' blocks; the person removes that file and continues: the session is
    processed with the statement alone and completes (it does not wait for the removed file)."""
    folder, _ = month

    def refuse(route: Any) -> None:
        if route.request.method == "PUT" and "blockid=" in route.request.url:
            route.fulfill(status=403, body="AuthenticationFailed")
            return
        route.continue_()

    page.route(re.compile(r".*comp=block.*"), refuse)
    page.goto(dev)
    page.get_by_test_id("file-input").set_input_files(own_copies(folder, tmp_path))
    page.get_by_test_id("start-upload").click()
    row = page.locator('[data-testid="file-row"][data-name="receipts.pdf"]')
    playwright_sync.expect(row.get_by_test_id("resume-upload")).to_be_visible()
    row.get_by_role("button", name="Remove receipts.pdf").click()
    playwright_sync.expect(row).to_have_count(0)
    page.get_by_test_id("start-upload").click()
    playwright_sync.expect(page.get_by_test_id("session-status")).to_have_text("Completed", timeout=120_000)
    session_id = page.url.rsplit("/", 1)[-1]
    files = api(dev, "GET", f"/api/sessions/{session_id}")["files"]
    assert [(f["name"], f["status"]) for f in files] == [("statement.pdf", "extracted")]


@pytest.fixture
def keyed(azurite: Azurite) -> Iterator[str]:
    """`ccproc api` as deployed: keys from CCPROC_API_KEYS required on every API route."""
    # A key as `ccproc keys new` makes it: since weak keys are refused at start-up, "right-key" is not.
    with serving(azurite, K1) as url:
        yield url


def test_with_keys_the_page_asks_for_one_and_sends_it_in_a_header(keyed: str, page: Any) -> None:
    """Deployed with keys, the page itself loads without one, asks for the access key, says so in a
    sentence when it is wrong, and with the right one works — the key travelling in the
    `x-functions-key` header, never in a URL."""
    urls: list[str] = []
    keys: list[str | None] = []

    def watch(request: Any) -> None:
        if "/api/" in request.url:
            urls.append(request.url)
            keys.append(request.headers.get("x-functions-key"))

    page.on("request", watch)
    page.goto(keyed)
    form = page.get_by_test_id("key-form")
    playwright_sync.expect(form).to_be_visible()
    shot(page, "13-key-asked")
    page.get_by_test_id("key-input").fill("wrong-key")
    page.get_by_test_id("key-input").press("Enter")
    playwright_sync.expect(page.get_by_test_id("alert")).to_contain_text("key")
    page.get_by_test_id("key-input").fill(K1)
    page.get_by_test_id("key-input").press("Enter")
    playwright_sync.expect(page.get_by_text("No sessions yet")).to_be_visible()  # storage of its own
    playwright_sync.expect(form).to_be_hidden()
    assert K1 in keys
    assert not any(K1 in url or "key" in url.lower() for url in urls)


def test_older_sessions_come_a_page_at_a_time(azurite: Azurite, page: Any) -> None:
    """With three sessions to a page, the list shows the newest three and a button for older ones,
    which adds them page by page, newest first, until there are none; the button then goes."""
    with serving(azurite, K1, SESSION_PAGE_SIZE="3") as url:
        made = []
        for i in range(7):
            request = urllib.request.Request(  # noqa: S310 - loopback only
                f"{url}/api/sessions",
                data=json.dumps({"name": f"Month {i}"}).encode(),
                method="POST",
                headers={"content-type": "application/json", "x-api-key": K1},
            )
            with urllib.request.urlopen(request, timeout=10) as answer:  # noqa: S310 - loopback only
                made.append(json.load(answer)["id"])
        page.goto(url)
        page.get_by_test_id("key-input").fill(K1)
        page.get_by_test_id("key-input").press("Enter")
        rows = page.get_by_test_id("session-row")
        older = page.get_by_test_id("older-sessions")
        playwright_sync.expect(rows).to_have_count(3)
        for count in (6, 7):
            older.click()
            playwright_sync.expect(rows).to_have_count(count)
        playwright_sync.expect(older).to_be_hidden()
        shown = [rows.nth(i).get_attribute("data-id") for i in range(7)]
        assert shown == made[::-1]


def test_a_pdf_that_is_neither_report_is_named_as_such_after_extraction(
    dev: str, page: Any, tmp_path: Path
) -> None:
    """A real PDF that is neither a statement nor a receipts report passes the browser's checks, and once
    extraction has read it its row says why it was refused; the extraction step shows as failed."""
    other = tmp_path / "minutes.pdf"
    drawing = canvas.Canvas(str(other))
    drawing.drawString(72, 720, "Minutes of the monthly budget meeting")
    drawing.drawString(72, 700, f"Meeting {secrets.token_hex(4)}")
    drawing.save()
    page.goto(dev)
    page.get_by_test_id("file-input").set_input_files(str(other))
    page.get_by_test_id("start-upload").click()
    # One file alone is warned of first (it may be the only report the person has): go on anyway.
    page.get_by_test_id("one-file-proceed").click()
    row = page.locator('[data-testid="file-row"][data-name="minutes.pdf"]')
    playwright_sync.expect(page.get_by_test_id("session-status")).to_have_text("Failed", timeout=120_000)
    # The reason: the clerk's sentence, with the technical one a click away.
    playwright_sync.expect(row.get_by_test_id("file-error")).to_contain_text(
        "This PDF is neither a Cardholder Activity Report nor a Receipt Images Report."
    )
    playwright_sync.expect(row.get_by_test_id("file-error-detail")).to_contain_text(
        "unrecognised document: expected a"
    )
    playwright_sync.expect(page.get_by_test_id("phase-extraction")).to_have_attribute("data-state", "failed")
    shot(page, "14-neither-report")


# -- the Content-Security-Policy -----------------------------------------------------------------
def _policy(answer: Any) -> dict[str, list[str]]:
    """An answer's Content-Security-Policy as directive -> sources."""
    directives = [d.split() for d in answer.headers["content-security-policy"].split(";") if d.strip()]
    return {d[0]: d[1:] for d in directives}


def test_the_page_uploads_under_its_policy_without_a_console_message(
    dev: str, page: Any, month: tuple[Path, dict[str, Any]], tmp_path: Path
) -> None:
    """Served with its strict policy (no inline code; connections to itself and the blob endpoint
    only), the page uploads a statement (request body) and a receipts report (blocks PUT straight to
    storage) without one console message and with nothing refused."""
    folder, _ = month
    messages: list[str] = []
    page.on("console", lambda m: messages.append(f"{m.type}: {m.text}"))
    blocks: list[str] = []
    page.on("requestfinished", lambda r: blocks.append(r.url) if "comp=block" in r.url else None)
    answer = page.goto(dev)
    policy = _policy(answer)
    assert policy["default-src"] == ["'self'"]
    assert "unsafe" not in answer.headers["content-security-policy"]
    (storage,) = (source for source in policy["connect-src"] if source != "'self'")
    assert storage.startswith("http://127.0.0.1:")
    assert not dev.startswith(storage)
    assert answer.headers["x-content-type-options"] == "nosniff"
    page.get_by_test_id("file-input").set_input_files(own_copies(folder, tmp_path))
    page.get_by_test_id("start-upload").click()
    playwright_sync.expect(page.get_by_test_id("phase-upload")).to_have_attribute("data-state", "done")
    assert blocks
    assert all(url.startswith(f"{storage}/") for url in blocks), blocks
    assert not messages, messages


def test_the_page_policy_is_enforced(browser: Any, dev: str) -> None:
    """The policy is enforced, not only sent: an inline script and a style attribute added to the page
    are refused and reported, while the page's own way of styling (CSSOM) still works."""
    context = browser.new_context()
    violations = watch_policy(context)
    page = context.new_page()
    try:
        page.goto(dev)
        playwright_sync.expect(page.get_by_test_id("file-input")).to_be_attached()
        page.evaluate("""() => {
            const script = document.createElement("script");
            script.textContent = "window.injected = true";
            document.head.append(script);
            const styled = document.createElement("p");
            styled.setAttribute("style", "color: red");
            document.body.append(styled);
        }""")
        for _ in range(100):
            if len(violations) >= 2:  # the two refusals above
                break
            page.wait_for_timeout(20)
        assert page.evaluate("window.injected") is None
        assert sorted(v.split()[0] for v in violations) == ["script-src-elem", "style-src-attr"], violations
        restyled = "() => { document.body.style.color = 'red'; return document.body.style.color; }"
        assert page.evaluate(restyled) == "red"
    finally:
        context.close()


# Swagger UI comes from its CDN, which this closed network cannot reach: a stand-in takes its place.
SWAGGER_STUB = """window.SwaggerUIBundle = Object.assign(
    (config) => { window.swaggerConfig = config; return {}; },
    {presets: {apis: {}}, SwaggerUIStandalonePreset: {}});"""


def test_the_api_docs_run_their_own_script_under_their_policy(dev: str, page: Any) -> None:
    """`/api/docs` runs its inline bootstrap (allowed by hash) and its CDN's script, nothing refused."""

    def cdn(route: Any) -> None:
        script = route.request.url.endswith(".js")
        route.fulfill(
            status=200,
            content_type="text/javascript" if script else "text/css",
            body=SWAGGER_STUB if script else "",
        )

    page.route("https://cdn.jsdelivr.net/**", cdn)
    page.route("https://fastapi.tiangolo.com/**", lambda route: route.fulfill(status=204))
    answer = page.goto(f"{dev}/api/docs")
    assert "'unsafe-inline'" not in _policy(answer)["script-src"]
    page.wait_for_function("() => window.swaggerConfig !== undefined")
    assert page.evaluate("window.swaggerConfig.url") == "/api/openapi.json"
