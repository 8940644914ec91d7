// A session's chase list (#/sessions/<id>/chase): per employee, what is missing, ready to send or print.
// Waived and resolved-outside exceptions are not on it. Each employee's message is a mailto: link with
// its subject and body (written by the server); the page sends nothing itself.

import { api, seg } from "./api.js";
import { FOLLOW_UP_LABELS, badge, dateTime, day, dollars, fill, h } from "./format.js";
import { printHref } from "./print.js";
import { attempt, downloadLink, setTitle } from "./ui.js";

/** A mailto: link with no address (the clerk picks the person), its subject and body filled in. */
export function mailto(subject, body) {
  return `mailto:?subject=${encodeURIComponent(subject)}&body=${encodeURIComponent(body)}`;
}

export async function renderChase(container, sessionId, view) {
  const base = `/api/sessions/${seg(sessionId)}`;
  fill(container, h("p.muted", { "aria-busy": "true" }, "Loading the chase list…"));
  const [session, chase] = await Promise.all([
    attempt(() => api("GET", base)),
    attempt(() => api("GET", `${base}/chase`)),
  ]);
  if (!view.alive) return;
  if (!session || !chase) {
    fill(container, h("p.back.no-print", {}, h("a", { href: `#/sessions/${seg(sessionId)}` }, "← Back to the session")));
    return;
  }
  const title = `Chase list — ${session.name || `Session of ${dateTime(session.created)}`}`;
  setTitle(title);
  const people = chase.employees || [];
  const charges = people.reduce((n, p) => n + p.lines.length, 0);
  fill(
    container,
    h("p.back.no-print", {}, h("a", { href: `#/sessions/${seg(sessionId)}`, testid: "chase-back" }, "← Back to the session")),
    h("h1", { testid: "chase-title" }, title),
    h("p.muted", {},
      people.length
        ? `${charges} charge${charges === 1 ? "" : "s"} to chase with ${people.length} employee${people.length === 1 ? "" : "s"}. `
          + "Waived and resolved-outside exceptions are left out."
        : "Nothing to chase: every exception is complete, waived or resolved outside."),
    h("div.actions.no-print", {},
      h("button.btn.btn-primary", { type: "button", testid: "chase-print", onclick: () => window.print() }, "Print"),
      downloadLink(`${base}/chase.csv`, "Download CSV", "chase-list.csv", { testid: "chase-csv", class: "btn btn-secondary" })),
    people.map((person, i) => personSection(person, i, sessionId)),
  );
}

function personSection(person, index, sessionId) {
  const heading = `chase-person-${index}`;
  return h("section.card.chase-person", { "aria-labelledby": heading, testid: "chase-person", dataset: { cardholder: person.cardholder } },
    h("div.chase-head", {},
      h("h2", { id: heading }, person.name,
        person.employee_id ? h("span.muted.small", {}, ` · Employee ${person.employee_id}`) : null),
      h("div.chase-links.no-print", {},
        h("a.btn.btn-secondary.btn-small", {
          href: mailto(person.subject, person.body),
          testid: "chase-mailto",
        }, "Write email", h("span.visually-hidden", {}, ` to ${person.name} about ${person.lines.length} charge${person.lines.length === 1 ? "" : "s"}`)),
        h("a.btn.btn-secondary.btn-small", { href: printHref(sessionId, person.cardholder), testid: "print-employee" },
          `Print exceptions for ${person.name}`))),
    h("div.table-wrap", { tabindex: "0" }, h("table.data-table.chase-table.cards", {},
      h("caption.visually-hidden", {}, `What ${person.name} still owes`),
      h("thead", {}, h("tr", {},
        h("th", { scope: "col" }, "Date"),
        h("th", { scope: "col" }, "Transaction #"),
        h("th", { scope: "col" }, "Card"),
        h("th", { scope: "col" }, "Merchant"),
        h("th.num", { scope: "col" }, "Amount"),
        h("th", { scope: "col" }, "Missing"),
        h("th", { scope: "col" }, "Follow-up"))),
      h("tbody", {}, person.lines.map((line) => h("tr", { testid: "chase-line", dataset: { transaction: line.transaction_number } },
        h("td.nowrap", { dataset: { label: "Date" } }, day(line.date)),
        h("td.nowrap", { dataset: { label: "Transaction #" } }, line.transaction_number),
        h("td.nowrap", { dataset: { label: "Card" } }, line.card ? `•••• ${line.card.slice(-4)}` : "—"),
        h("td", { dataset: { label: "Merchant" } }, line.merchant),
        h("td.num.nowrap", { dataset: { label: "Amount" } }, dollars(line.amount)),
        h("td", { dataset: { label: "Missing" } }, badge(line.missing, line.status.toLowerCase().replace(/\s+/g, "-"))),
        h("td", { dataset: { label: "Follow-up" } }, FOLLOW_UP_LABELS[line.follow_up] || line.follow_up, line.note ? h("span.sub.muted", {}, line.note) : null)))),
      h("tfoot", {}, h("tr", {},
        h("th", { scope: "row", colspan: "4" }, "Total"),
        h("td.num.nowrap", { testid: "chase-total", dataset: { label: "Total" } }, dollars(person.total)),
        h("td", { colspan: "2" }))))),
  );
}
