// A session's exceptions ready to print (#/sessions/<id>/print, or ?employee=<cardholder> for one
// person): every exception, grouped by employee, in one table with every column, a subtotal per
// employee. print.css lays it out on A4 landscape with the headings repeated on each page.

import { api, seg } from "./api.js";
import { FOLLOW_UP_LABELS, day, dollars, fill, h, maskedCard, today } from "./format.js";
import { attempt, setTitle } from "./ui.js";

const COLUMNS = ["Date", "Employee", "Card", "Merchant", "Amount", "Status", "Match", "Receipt", "Follow-up"];

/** The address of the print view, for every exception or for one cardholder's (as the statement prints it). */
export function printHref(sessionId, cardholder = "") {
  const query = cardholder ? `?${new URLSearchParams({ employee: cardholder })}` : "";
  return `#/sessions/${seg(sessionId)}/print${query}`;
}

export async function renderPrint(container, sessionId, params, view) {
  const base = `/api/sessions/${seg(sessionId)}`;
  const back = h("p.back.no-print", {}, h("a", { href: `#/sessions/${seg(sessionId)}`, testid: "print-back" }, "← Back to the session"));
  fill(container, back, h("p.muted", { "aria-busy": "true" }, "Loading the exceptions…"));
  const [session, data] = await Promise.all([attempt(() => api("GET", base)), attempt(() => api("GET", `${base}/transactions`))]);
  if (!view.alive) return;
  if (!session || !data) {
    fill(container, back);
    return;
  }
  const exceptions = (data.transactions || []).filter((item) => item.status !== "Complete");
  const person = (holder) => data.people?.[holder] || holder || "No cardholder";
  const holders = [...new Set(exceptions.map((item) => item.transaction.cardholder || ""))]
    .sort((a, b) => person(a).localeCompare(person(b)));
  const name = session.name?.trim() || `Session of ${day(session.created)}`;

  const select = h("select", { id: "print-employee-filter", testid: "print-employee-filter" },
    h("option", { value: "" }, `All employees (${holders.length})`),
    holders.map((holder) => h("option", { value: holder }, person(holder))));
  const title = h("h1", { testid: "print-title" });
  const subtitle = h("p.print-meta", { testid: "print-meta" });
  const tableBox = h("div.print-table-box");

  const render = (employee) => {
    select.value = holders.includes(employee) ? employee : "";
    const shown = holders.filter((holder) => !employee || holder === employee);
    const rows = exceptions.filter((item) => shown.includes(item.transaction.cardholder || ""));
    const what = employee ? `Exceptions for ${person(employee)}` : "Exceptions";
    title.textContent = `${what} — ${name}`;
    setTitle(`${what} — ${name}`);
    subtitle.textContent = `Printed ${today()} · ${rows.length} exception${rows.length === 1 ? "" : "s"}`
      + `${employee ? "" : ` · ${shown.length} employee${shown.length === 1 ? "" : "s"}`} · ${dollars(sum(rows))}`;
    if (employee && !holders.includes(employee)) {
      fill(tableBox, h("p", { testid: "print-empty" }, `${employee} has no exceptions in this session.`));
      return;
    }
    if (!rows.length) {
      fill(tableBox, h("p", { testid: "print-empty" }, "Every transaction is complete: there are no exceptions to print."));
      return;
    }
    fill(tableBox, h("div.table-wrap", { tabindex: "0" }, table(shown, data, person, !employee)));
  };

  select.addEventListener("change", () => {
    // The address follows the choice (a bookmark or a reload prints the same); the table is redrawn in place.
    history.pushState(null, "", printHref(sessionId, select.value));
    render(select.value);
  });

  fill(container,
    back,
    h("header.print-head", {}, title, subtitle),
    h("div.print-controls.no-print", {},
      h("div.field", {}, h("label", { for: "print-employee-filter" }, "Employee"), select),
      h("button.btn.btn-primary", { type: "button", testid: "print-button", onclick: () => window.print() }, "Print")),
    tableBox);
  render(params.get("employee") || "");
}

function sum(items) {
  // Cents as integers: a subtotal to the cent without floating-point drift.
  const cents = items.reduce((total, item) => total + Math.round(Number(item.transaction.net || 0) * 100), 0);
  return (cents / 100).toFixed(2);
}

function table(holders, data, person, withTotal) {
  const exceptions = data.transactions.filter((item) => item.status !== "Complete");
  const groups = holders.map((holder) => {
    const items = exceptions.filter((item) => (item.transaction.cardholder || "") === holder).sort(byDate);
    return h("tbody.print-group", { testid: "print-group", dataset: { cardholder: holder } },
      h("tr.print-group-head", {}, h("th", { colspan: String(COLUMNS.length), scope: "rowgroup" }, person(holder),
        items[0]?.transaction.employee_id ? h("span.muted", {}, ` · Employee ${items[0].transaction.employee_id}`) : null)),
      items.map((item) => row(item, data, person)),
      h("tr.print-subtotal", { testid: "print-subtotal" },
        h("th", { colspan: "4", scope: "row" }, `Subtotal for ${person(holder)} (${items.length})`),
        h("td.num.nowrap", { "data-label": "Amount" }, dollars(sum(items))),
        h("td.print-filler", { colspan: String(COLUMNS.length - 5) })));
  });
  const all = exceptions.filter((item) => holders.includes(item.transaction.cardholder || ""));
  return h("table.data-table.print-table.cards", { testid: "print-table" },
    h("caption.visually-hidden", {}, "Exceptions, grouped by employee"),
    h("colgroup", {}, COLUMNS.map((column) => h("col", { class: `col-${column.toLowerCase()}` }))),
    h("thead", {}, h("tr", {}, COLUMNS.map((column) => h(column === "Amount" ? "th.num" : "th", { scope: "col" }, column)))),
    groups,
    withTotal && holders.length > 1 ? h("tbody", {}, h("tr.print-total", { testid: "print-total" },
      h("th", { colspan: "4", scope: "row" }, `Total, ${all.length} exceptions`),
      h("td.num.nowrap", { "data-label": "Amount" }, dollars(sum(all))),
      h("td.print-filler", { colspan: String(COLUMNS.length - 5) }))) : null);
}

function byDate(a, b) {
  return String(a.transaction.transaction_date).localeCompare(String(b.transaction.transaction_date))
    || String(a.transaction.transaction_number).localeCompare(String(b.transaction.transaction_number), undefined, { numeric: true });
}

function row(item, data, person) {
  const t = item.transaction;
  const place = [t.city, t.state].filter(Boolean).join(", ");
  const followUp = data.follow_up?.[t.transaction_number] || { state: "open", note: "" };
  return h("tr.print-row", { testid: "print-row", dataset: { transaction: t.transaction_number, status: item.status } },
    h("td", { "data-label": "Date" }, h("span.nowrap", {}, day(t.transaction_date)), h("span.sub", {}, `No. ${t.transaction_number}`)),
    h("td", { "data-label": "Employee" }, person(t.cardholder)),
    h("td.nowrap", { "data-label": "Card" }, maskedCard(t.card_last4) || "—"),
    h("td.merchant", { "data-label": "Merchant" }, t.merchant || "—", place ? h("span.sub", {}, place) : null),
    h("td.num.nowrap", { "data-label": "Amount" }, dollars(t.net)),
    h("td", { "data-label": "Status" }, item.status),
    h("td", { "data-label": "Match" }, matchWords(item)),
    h("td", { "data-label": "Receipt" }, receiptWords(item)),
    h("td", { "data-label": "Follow-up" }, FOLLOW_UP_LABELS[followUp.state] || followUp.state,
      followUp.note ? h("span.sub", {}, followUp.note) : null));
}

/** How the transaction met (or missed) an expense, in words: the server's when it sends them. */
function matchWords(item) {
  if (item.match_words) return item.match_words;
  const e = item.evidence;
  const x = item.expense;
  if (!e) return x ? "Matched to an expense" : "No matching expense";
  const id = x?.expense_id ? ` ${x.expense_id}` : "";
  return `Matched to expense${id} (score ${Math.round(e.score)}${e.via_alias ? ", through an alias" : ""})`;
}

/** Whether a receipt image backs the transaction, or only the expense form, or nothing. */
function receiptWords(item) {
  if (item.receipt_image === true) return "Receipt attached";
  if (item.receipt_image === false) return item.expense || item.receipt_pdf ? "Expense form only" : "None";
  if (item.receipt_pdf) return "Receipt attached";
  return item.expense ? "Expense form only" : "None";
}
