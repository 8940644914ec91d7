"""axe-core (npm, pinned in package.json) run inside a Playwright page: the page's accessibility
problems as axe reports them, for the browser tests.

The script is evaluated through the browser's debugging protocol, which the page's
Content-Security-Policy does not govern, so the page under test keeps its real policy.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

AXE = Path(__file__).resolve().parent.parent / "node_modules" / "axe-core" / "axe.min.js"
# The WCAG 2.1 A and AA rules (and axe's best practices): what a public-sector buyer asks for.
TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"]
RUN = """async (tags) => {
    const options = {runOnly: {type: "tag", values: tags}, resultTypes: ["violations"]};
    const result = await axe.run(document, options);
    return result.violations.map((v) => ({
        id: v.id, impact: v.impact, help: v.help,
        nodes: v.nodes.slice(0, 5).map(
            (n) => n.target.join(" ") + ": " + n.failureSummary.split("\\n").slice(1, 2).join("")),
    }));
}"""


def violations(page: Any, *, impacts: tuple[str, ...] = ("serious", "critical")) -> list[dict[str, Any]]:
    """axe-core's violations of the page as it is now, those of `impacts` only."""
    if not AXE.is_file():
        raise FileNotFoundError(f"{AXE} is missing: `make setup` installs package.json's axe-core")
    if not page.evaluate("() => typeof window.axe === 'object'"):
        page.evaluate(AXE.read_text(encoding="utf-8") + "\n;0")
    return [v for v in page.evaluate(RUN, TAGS) if v["impact"] in impacts]


def describe(found: list[dict[str, Any]]) -> str:
    """The violations as lines a person reads in a failed test."""
    return "\n".join(f"{v['impact']} {v['id']}: {v['help']} — {'; '.join(v['nodes'])}" for v in found)
