"""The session page of a month, measured in Chromium: shared by the browser tests
(`tests/test_page_month.py`) and the page benchmark (`python -m bench.page`).

A month is generated (`build_month(size="month")`: 1,500 transactions, 60 cards), sent through a
running `ccproc dev` with `ccproc submit`, and its session page opened with two observers installed
before the page's own scripts run (through the browser's debugging protocol, which the page's
Content-Security-Policy does not govern):

- a `PerformanceObserver` of `longtask` entries (the main thread busy for over 50 ms), kept in
  `window.__longtasks`;
- a `MutationObserver` noting when the first exception row is in the document (`window.__firstRow`),
  against the resource timing of the `/transactions` answer: how long after its data arrived the
  page showed it.
"""

from __future__ import annotations

import json
import subprocess
import sys
import urllib.request
from pathlib import Path
from typing import Any

CCPROC = str(Path(sys.executable).with_name("ccproc"))

OBSERVERS = """(() => {
    window.__longtasks = [];
    window.__firstRow = null;
    try {
        new PerformanceObserver((list) => {
            for (const e of list.getEntries()) window.__longtasks.push(
                {start: Math.round(e.startTime), ms: Math.round(e.duration)});
        }).observe({type: "longtask", buffered: true});
    } catch (e) { window.__longtasks = null; }
    new MutationObserver((records, observer) => {
        if (document.querySelector('[data-testid="exception-row"]')) {
            window.__firstRow = performance.now();
            observer.disconnect();
        }
    }).observe(document, {childList: true, subtree: true});
})();"""

READY = """() => {
    const answer = performance.getEntriesByType("resource")
        .filter((e) => /\\/transactions(\\?|$)/.test(e.name)).pop();
    return answer && window.__firstRow !== null
        ? {arrived: Math.round(answer.responseEnd), shown: Math.round(window.__firstRow),
           ms: Math.round(window.__firstRow - answer.responseEnd)}
        : null;
}"""


def api(base: str, method: str, path: str) -> Any:
    """One JSON call of the API."""
    request = urllib.request.Request(f"{base}{path}", method=method)  # noqa: S310 — loopback only
    with urllib.request.urlopen(request, timeout=60) as answer:  # noqa: S310 — loopback only
        return json.loads(answer.read())


def submit_month(base: str, folder: Path, out: Path, *, direct_max: int) -> str:
    """Send the month in `folder` to `ccproc dev` at `base` with `ccproc submit`; the session's id."""
    before = {s["id"] for s in api(base, "GET", "/api/sessions")["sessions"]}
    done = subprocess.run(
        [
            CCPROC,
            "submit",
            str(folder / "statement.pdf"),
            str(folder / "receipts.pdf"),
            "--out",
            str(out),
            "--api",
            base,
            "--quiet",
            "--direct-max",
            str(direct_max),
            "--allow-duplicate",
        ],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"ccproc submit failed: {done.stderr[-2000:]}")
    (session_id,) = {s["id"] for s in api(base, "GET", "/api/sessions")["sessions"]} - before
    return str(session_id)


def open_observed(context: Any, url: str) -> Any:
    """A new page of `context` with the observers installed, at `url`."""
    page = context.new_page()
    page.add_init_script(OBSERVERS)
    page.goto(url)
    return page


def long_tasks(page: Any, *, clear: bool = True) -> list[dict[str, int]]:
    """The long tasks seen since the page opened (or since the last call that cleared them)."""
    tasks: list[dict[str, int]] | None = page.evaluate("() => window.__longtasks")
    if tasks is None:
        raise RuntimeError("this Chromium does not report long tasks")
    if clear:
        page.evaluate("() => { window.__longtasks.length = 0; }")
    return tasks


def ready(page: Any) -> dict[str, int] | None:
    """How long after the transactions arrived the first exception row was shown (ms), if it was."""
    result: dict[str, int] | None = page.evaluate(READY)
    return result
