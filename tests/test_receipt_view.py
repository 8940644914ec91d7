"""A receipt shown beside its transaction: the review says whether a PDF holds a receipt image or the
expense's form alone and the match in words; `?inline=1` answers a receipt PDF for the page to frame
(its own origin only), through the API on Azurite and in Debian's headless Chromium against `ccproc dev`.
"""
# The browser fixtures come from test_web_page and are named again as the tests' parameters.
# ruff: noqa: F811

from __future__ import annotations

import io
import re
import time
import urllib.request
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from shared.http.app import build_app
from shared.models import Status
from shared.settings import Settings
from shared.storage.azure import AzureStorage
from tests.builders.month import build_month
from tests.test_http_api import Client, complete_month
from tests.test_http_headers import policy
from tests.test_web_page import (  # noqa: F401 - fixtures, used by name
    TIMEOUT_MS,
    api,
    browser,
    completed,
    dev,
    month,
    page,
    shot,
)

KEY = {"x-api-key": "tenant-key-0123456789"}
OTHER = {"x-api-key": "other-tenant-key-987654"}


@pytest.fixture
def keyed(storage: AzureStorage, settings: Settings) -> Client:
    """The app on Azurite with two tenants' keys."""
    return Client(
        build_app(lambda: storage, settings, api_keys=frozenset({KEY["x-api-key"], OTHER["x-api-key"]}))
    )


def test_the_review_says_the_match_in_words_and_whether_a_receipt_image_is_attached(
    keyed: Client, storage: AzureStorage, settings: Settings, tmp_path: Path
) -> None:
    """Each matched transaction has `match_words` and a 0-100 `match_confidence` (none without a match);
    `receipt_image` is true exactly when its PDF was cut and the expense has an attachment: a Missing
    Receipt row's PDF is the expense form alone."""
    build_month(tmp_path / "month", size="small", seed=8)
    session_id = complete_month(keyed, storage, settings, tmp_path / "month", headers=KEY)
    _, result = keyed.json("GET", f"/api/sessions/{session_id}/transactions", headers=KEY)
    items = result["transactions"]
    for item in items:
        if item["evidence"] is None:
            assert (item["match_words"], item["match_confidence"]) == (None, None)
        else:
            assert re.match(r"^(Strong|Likely|Possible) match: same person", item["match_words"])
            assert 0 <= item["match_confidence"] <= 100
            assert "score" not in item["match_words"]
        attached = bool(item["expense"] and item["expense"]["attachments"])
        assert item["receipt_image"] is (item["receipt_pdf"] is not None and attached)
    forms = [i for i in items if i["receipt_pdf"] and i["status"] == Status.MISSING_RECEIPT.value]
    assert forms, "the month should have a Missing Receipt row with its expense form"
    assert not any(i["receipt_image"] for i in forms)
    assert any(i["receipt_image"] for i in items if i["status"] == Status.COMPLETE.value)


def test_a_receipt_pdf_is_shown_inline_to_its_own_page_only(
    keyed: Client, storage: AzureStorage, settings: Settings, tmp_path: Path
) -> None:
    """`?inline=1` answers the same bytes `inline; filename=…` with `frame-ancestors 'self'` and no
    X-Frame-Options, for HEAD too; the download stays an attachment no page may frame; another tenant
    gets 404, no key 401; a report that is not a PDF is never inline."""
    build_month(tmp_path / "month", size="small", seed=8)
    session_id = complete_month(keyed, storage, settings, tmp_path / "month", headers=KEY)
    _, result = keyed.json("GET", f"/api/sessions/{session_id}/transactions", headers=KEY)
    name = next(i["receipt_pdf"] for i in result["transactions"] if i["receipt_image"])
    path = f"/api/sessions/{session_id}/reports/receipts/{name}"

    saved = keyed.request("GET", path, headers=KEY)
    shown = keyed.request("GET", f"{path}?inline=1", headers=KEY)
    assert (saved.status_code, shown.status_code) == (200, 200)
    assert shown.get_body() == saved.get_body()
    assert shown.get_body().startswith(b"%PDF-")
    assert shown.mimetype == "application/pdf"
    assert shown.headers["Content-Disposition"] == f'inline; filename="{name}"'
    assert saved.headers["Content-Disposition"] == f'attachment; filename="{name}"'
    assert policy(shown) == {"default-src": ["'none'"], "frame-ancestors": ["'self'"]}
    assert policy(saved) == {"default-src": ["'none'"], "frame-ancestors": ["'none'"]}
    for answer in (shown, saved):
        assert "X-Frame-Options" not in answer.headers
        assert answer.headers["X-Content-Type-Options"] == "nosniff"
        assert answer.headers["Cache-Control"] == "no-store"

    head = keyed.request("HEAD", f"{path}?inline=1", headers=KEY)
    assert head.status_code == 200
    assert head.get_body() == b""
    for header in ("Content-Disposition", "Content-Security-Policy", "Content-Type"):
        assert head.headers[header] == shown.headers[header], header

    assert keyed.request("GET", f"{path}?inline=1", headers=OTHER).status_code == 404
    assert keyed.request("GET", f"{path}?inline=1").status_code == 401
    csv_answer = keyed.request(
        "GET", f"/api/sessions/{session_id}/reports/transactions?inline=1", headers=KEY
    )
    assert csv_answer.headers["Content-Disposition"].startswith("attachment;")
    assert policy(csv_answer)["frame-ancestors"] == ["'none'"]


# -- in the browser ------------------------------------------------------------------------------
FRAME = """(src) => new Promise((resolve) => {
    const frame = document.createElement("iframe");
    frame.src = src;
    frame.width = 800;
    frame.height = 500;
    frame.dataset.testid = "receipt-frame-under-test";
    frame.addEventListener("load", () => resolve(true), {once: true});
    document.body.prepend(frame);
})"""
# The page fetches the PDF (with an access key in a header, when keys are on) and frames a blob: URL of it.
BLOB_FRAME = """async (src) => {
    const answer = await fetch(src);
    const url = URL.createObjectURL(await answer.blob());
    return await new Promise((resolve) => {
        const frame = document.createElement("iframe");
        frame.src = url;
        frame.width = 800;
        frame.height = 500;
        frame.dataset.testid = "receipt-frame-under-test";
        frame.addEventListener("load", () => resolve(answer.headers.get("content-type")), {once: true});
        document.body.prepend(frame);
    });
}"""


def _viewer_drawn(page: Any) -> bool:
    """Chromium's PDF viewer drew in the frame: its dark toolbar across the frame's top (a frame the
    browser refused shows its light "is blocked" page instead)."""
    frame = page.get_by_test_id("receipt-frame-under-test")
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        image = Image.open(io.BytesIO(frame.screenshot())).convert("L")
        strip = [image.getpixel((x, 20)) for x in range(0, image.width, 10)]
        if sum(1 for value in strip if isinstance(value, int) and value < 90) > len(strip) * 0.8:
            return True
        time.sleep(0.5)
    return False


def _receipt(dev: str, session_id: str) -> str:
    data = api(dev, "GET", f"/api/sessions/{session_id}/transactions")
    name = next(i["receipt_pdf"] for i in data["transactions"] if i["receipt_image"])
    return f"/api/sessions/{session_id}/reports/receipts/{name}"


def test_the_page_frames_a_receipt_pdf_from_its_own_origin(dev: str, completed: str, page: Any) -> None:
    """An iframe of the page pointing at a receipt's inline URL navigates to the PDF answer (inline, its
    policy letting the page frame it) and Chromium's PDF viewer draws it, with no policy refusing anything
    (the `page` fixture fails the test on any violation or console report of one)."""
    path = _receipt(dev, completed)
    page.goto(f"{dev}/")
    with page.expect_response(lambda r: r.url.endswith(f"{path}?inline=1")) as answered:
        page.evaluate(FRAME, f"{path}?inline=1")
    response = answered.value
    headers = response.all_headers()
    assert response.status == 200
    assert headers["content-type"] == "application/pdf"
    assert headers["content-disposition"].startswith("inline; filename=")
    assert "frame-ancestors 'self'" in headers["content-security-policy"]
    assert "x-frame-options" not in headers
    assert response.frame.url.endswith(f"{path}?inline=1")
    assert response.frame.parent_frame == page.main_frame
    assert response.frame.evaluate("() => document.contentType") == "application/pdf"
    assert _viewer_drawn(page)
    shot(page, "receipt-inline-frame")


def test_the_page_frames_a_receipt_pdf_fetched_into_a_blob(dev: str, completed: str, page: Any) -> None:
    """The way the page shows a receipt when access keys are on (fetched with the key in a header, then
    framed as a blob: URL) passes the page's policy (`frame-src 'self' blob:`, `object-src 'none'` kept)
    and Chromium's PDF viewer draws it."""
    path = _receipt(dev, completed)
    page.goto(f"{dev}/")
    assert page.evaluate(BLOB_FRAME, f"{path}?inline=1") == "application/pdf"
    frame = next(f for f in page.frames if f.url.startswith("blob:"))
    assert frame.evaluate("() => document.contentType") == "application/pdf"
    assert _viewer_drawn(page)
    page_policy = api_policy(dev)
    assert "frame-src 'self' blob:" in page_policy
    assert "object-src 'none'" in page_policy


def api_policy(dev: str) -> str:
    """The policy the page itself is served with."""
    with urllib.request.urlopen(f"{dev}/", timeout=30) as answer:  # noqa: S310 - loopback only
        return str(answer.headers["Content-Security-Policy"])


def test_a_page_of_another_origin_may_not_frame_a_receipt(dev: str, completed: str, browser: Any) -> None:
    """A page of another origin (a blank page's) that frames a receipt's inline URL gets Chromium's
    refusal: `frame-ancestors 'self'` holds."""
    path = _receipt(dev, completed)
    context = browser.new_context()
    try:
        other = context.new_page()
        other.set_default_timeout(TIMEOUT_MS)
        messages: list[str] = []
        other.on("console", lambda m: messages.append(m.text))
        other.set_content("<!doctype html><p>elsewhere</p>")
        other.evaluate(FRAME, f"{dev}{path}?inline=1")
        deadline = time.monotonic() + 10
        while not any("frame-ancestors" in m for m in messages) and time.monotonic() < deadline:
            other.wait_for_timeout(200)
        assert any("frame-ancestors 'self'" in m for m in messages), messages
    finally:
        context.close()
