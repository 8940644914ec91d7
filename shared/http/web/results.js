// A completed session's results: money totals, exceptions with their follow-up, unmatched expenses,
// unresolved names (with aliases), checks. People are shown by the name the server says people read.

import { api, seg } from "./api.js";
import {
  FOLLOW_UP_LABELS, FOLLOW_UP_STATES, RECONCILIATION_STATUSES, badge, day, dollars, fill, followUpWho, h,
  maskedCard, money, sentence,
} from "./format.js";
import { attempt, downloadLink } from "./ui.js";
import { unresolvedSection } from "./aliases.js";
import { pvaultNote } from "./pvault.js";

// Table settings survive a reload of the results (after an alias), per session.
const settings = new Map();

function tableSettings(id) {
  if (!settings.has(id)) settings.set(id, { showAll: false, employee: "", status: "", sort: "date", dir: 1 });
  return settings.get(id);
}

export async function renderResults(container, session, view, { reconcile }) {
  const base = `/api/sessions/${seg(session.id)}`;
  const data = await attempt(() => api("GET", `${base}/transactions`));
  if (!data || !view.alive) return;
  const cardholders = [...new Set(data.transactions.map((t) => t.transaction.cardholder).filter(Boolean))].sort();
  data.follow_up = data.follow_up || {};
  const totals = h("section.card.totals-section", { "aria-labelledby": "totals-heading", testid: "totals" });
  const showTotals = (fresh) => fill(totals, totalsContent(fresh));
  showTotals(data);
  // A state changed: the money still to chase and waived changed with it (summed on the server).
  const refreshTotals = async () => {
    const fresh = await attempt(() => api("GET", `${base}/transactions`));
    if (fresh && view.alive) showTotals(fresh);
  };
  fill(
    container,
    totals,
    pvaultNote(data),
    exceptionsSection(data, tableSettings(session.id), base, { sessionId: session.id, refreshTotals }),
    unmatchedSection(data.unmatched_expenses || []),
    unresolvedSection(data.unresolved_names || [], cardholders, reconcile),
    checksSection(data.checks || [], data.warnings || []),
  );
}

/** The name people read for a cardholder as the statement prints it. */
function personOf(data, holder) {
  return (data.people && data.people[holder]) || holder || "";
}

// -- money ---------------------------------------------------------------------------------------
function totalsContent(data) {
  const t = data.totals;
  if (!t) return null;
  const money2 = (m) => [h("td.num", {}, String(m.count)), h("td.num.nowrap", {}, dollars(m.amount))];
  const employees = Object.entries(t.employees || {})
    .sort(([, a], [, b]) => String(a.name).localeCompare(String(b.name)));
  return [
    h("h2#totals-heading", {}, "Money"),
    h("p.muted", {}, "Amounts are the statement's net amounts. Waived exceptions are counted apart from those still to chase."),
    h("ul.money-facts", {},
      h("li", { testid: "total-all" }, h("span.muted", {}, "All transactions "), h("strong", {}, dollars(t.all.amount)), ` (${t.all.count})`),
      h("li", { testid: "total-exceptions" }, h("span.muted", {}, "Exceptions "), h("strong", {}, dollars(t.exceptions.amount)), ` (${t.exceptions.count})`),
      h("li", { testid: "total-waived" }, h("span.muted", {}, "Waived "), h("strong", {}, dollars(t.waived.amount)), ` (${t.waived.count})`),
      h("li", { testid: "total-to-chase" }, h("span.muted", {}, "Still to chase "), h("strong", {}, dollars(t.to_chase.amount)), ` (${t.to_chase.count})`)),
    h("div.money-tables", {},
      h("div.table-wrap", { tabindex: "0" }, h("table.data-table", { testid: "totals-statuses" },
        h("caption.visually-hidden", {}, "Money per status"),
        h("thead", {}, h("tr", {}, h("th", { scope: "col" }, "Status"), h("th.num", { scope: "col" }, "Transactions"), h("th.num", { scope: "col" }, "Amount"))),
        h("tbody", {}, RECONCILIATION_STATUSES.filter((s) => t.statuses[s]).map((s) => h("tr", { testid: "total-status", dataset: { status: s } },
          h("th", { scope: "row" }, badge(s)), money2(t.statuses[s])))),
        h("tfoot", {}, h("tr", {}, h("th", { scope: "row" }, "Total"), money2(t.all))))),
      h("div.table-wrap", { tabindex: "0" }, h("table.data-table", { testid: "totals-employees" },
        h("caption.visually-hidden", {}, "Money per employee"),
        h("thead", {}, h("tr", {},
          h("th", { scope: "col" }, "Employee"),
          h("th.num", { scope: "col" }, "Card total"),
          h("th.num", { scope: "col" }, "Exceptions"),
          h("th.num", { scope: "col" }, "Waived"),
          h("th.num", { scope: "col" }, "Still to chase"))),
        h("tbody", {}, employees.map(([holder, e]) => h("tr", { testid: "total-employee", dataset: { cardholder: holder } },
          h("th", { scope: "row" }, e.name || holder || "—"),
          h("td.num.nowrap", {}, dollars(e.all.amount)),
          h("td.num.nowrap", {}, dollars(e.exceptions.amount)),
          h("td.num.nowrap", {}, dollars(e.waived.amount)),
          h("td.num.nowrap", {}, dollars(e.to_chase.amount)))))))),
  ];
}

// -- exceptions ----------------------------------------------------------------------------------
function exceptionsSection(data, opts, base, { sessionId, refreshTotals }) {
  const all = data.transactions;
  const exceptions = all.filter((t) => t.status !== "Complete");
  const employees = [...new Set(all.map((t) => t.transaction.cardholder).filter(Boolean))]
    .sort((a, b) => personOf(data, a).localeCompare(personOf(data, b)));
  const body = h("tbody");
  const shownNote = h("p.muted.small", { "aria-live": "polite" });
  const employeeSelect = h("select", { id: "employee-filter", testid: "employee-filter" },
    h("option", { value: "" }, "All employees"),
    employees.map((e) => h("option", { value: e, selected: opts.employee === e }, personOf(data, e))));
  const statusSelect = h("select", { id: "exception-status-filter", testid: "exception-status-filter" });
  const showAll = h("input", { id: "show-all", type: "checkbox", testid: "show-all", checked: opts.showAll });
  const sortButton = (key, label) => h("button.sort", { type: "button", testid: `sort-${key}` }, label, h("span.sort-mark", { "aria-hidden": "true" }));
  const dateTh = h("th", { scope: "col" }, sortButton("date", "Date"));
  const amountTh = h("th.num", { scope: "col" }, sortButton("amount", "Amount"));

  const statusOptions = () => {
    const choices = RECONCILIATION_STATUSES.filter((s) => opts.showAll || s !== "Complete");
    if (!choices.includes(opts.status)) opts.status = "";
    fill(statusSelect, h("option", { value: "" }, "All statuses"),
      choices.map((s) => h("option", { value: s, selected: opts.status === s }, s)));
  };

  const render = () => {
    const source = opts.showAll ? all : exceptions;
    const rows = source
      .filter((t) => (!opts.employee || t.transaction.cardholder === opts.employee) && (!opts.status || t.status === opts.status))
      .sort((a, b) => opts.dir * compare(a, b, opts.sort));
    fill(body, rows.map((t) => exceptionRow(t, base, data, refreshTotals)));
    if (!rows.length) {
      body.append(h("tr", {}, h("td.empty-cell", { colspan: "9" },
        source.length ? "No transactions match these filters." : "Every transaction is complete: there are no exceptions.")));
    }
    shownNote.textContent = `Showing ${rows.length} of ${source.length} ${opts.showAll ? "transactions" : "exceptions"}.`;
    for (const [th, key] of [[dateTh, "date"], [amountTh, "amount"]]) {
      const sorted = opts.sort === key;
      th.setAttribute("aria-sort", sorted ? (opts.dir > 0 ? "ascending" : "descending") : "none");
      th.querySelector(".sort-mark").textContent = sorted ? (opts.dir > 0 ? " ▲" : " ▼") : " ↕";
    }
  };

  for (const [th, key] of [[dateTh, "date"], [amountTh, "amount"]]) {
    th.querySelector("button").addEventListener("click", () => {
      opts.dir = opts.sort === key ? -opts.dir : 1;
      opts.sort = key;
      render();
    });
  }
  employeeSelect.addEventListener("change", () => { opts.employee = employeeSelect.value; render(); });
  statusSelect.addEventListener("change", () => { opts.status = statusSelect.value; render(); });
  showAll.addEventListener("change", () => { opts.showAll = showAll.checked; statusOptions(); render(); });
  statusOptions();
  render();

  return h("section.card", { "aria-labelledby": "exceptions-heading" },
    h("h2#exceptions-heading", {}, "Exceptions ", h("span.count", { testid: "count-exceptions" }, String(exceptions.length))),
    h("p.muted", {}, "Transactions that are not Complete: a receipt, the coding or the whole expense is missing. "
      + "Record where each one stands; it is kept when the session is reconciled again."),
    h("div.actions.follow-up-actions", {},
      h("a.btn.btn-secondary", { href: `#/sessions/${seg(sessionId)}/chase`, testid: "chase-link" }, "Chase list"),
      downloadLink(`${base}/workbook`, "Workbook with follow-up (XLSX)", "exceptions.xlsx", {
        testid: "download-workbook-now", class: "btn btn-secondary",
      })),
    h("div.filters", {},
      h("div.field", {}, h("label", { for: "employee-filter" }, "Employee"), employeeSelect),
      h("div.field", {}, h("label", { for: "exception-status-filter" }, "Status"), statusSelect),
      h("div.field.check", {}, showAll, h("label", { for: "show-all" }, "Show all transactions"))),
    shownNote,
    h("div.table-wrap", { tabindex: "0" }, h("table.data-table.exceptions", { testid: "exceptions-table" },
      h("caption.visually-hidden", {}, "Exceptions; the Date and Amount headings sort the table"),
      h("thead", {}, h("tr", {},
        dateTh,
        h("th", { scope: "col" }, "Employee"),
        h("th", { scope: "col" }, "Card"),
        h("th", { scope: "col" }, "Merchant"),
        amountTh,
        h("th", { scope: "col" }, "Status"),
        h("th", { scope: "col" }, "Match"),
        h("th", { scope: "col" }, "Receipt"),
        h("th", { scope: "col" }, "Follow-up"))),
      body)),
  );
}

function compare(a, b, key) {
  if (key === "amount") return Number(a.transaction.net) - Number(b.transaction.net);
  return String(a.transaction.transaction_date).localeCompare(String(b.transaction.transaction_date))
    || String(a.transaction.transaction_number).localeCompare(String(b.transaction.transaction_number), undefined, { numeric: true });
}

function exceptionRow(item, base, data, refreshTotals) {
  const t = item.transaction;
  const place = [t.city, t.state].filter(Boolean).join(", ");
  const followUp = data.follow_up[t.transaction_number];
  return h("tr", {
    testid: "exception-row",
    dataset: { status: item.status, transaction: t.transaction_number, followUp: followUp?.state || "" },
  },
    h("td.nowrap", {}, day(t.transaction_date)),
    h("td", {}, personOf(data, t.cardholder) || "—", t.employee_id ? h("span.sub.muted", {}, `Employee ${t.employee_id}`) : null),
    h("td.nowrap", {}, maskedCard(t.card_last4) || "—"),
    h("td", {}, t.merchant, place ? h("span.sub.muted", {}, place) : null),
    h("td.num.nowrap", {}, money(t.net)),
    h("td", {}, badge(item.status)),
    h("td.evidence-cell", {}, evidence(item)),
    h("td", {}, item.receipt_pdf
      ? downloadLink(`${base}/reports/receipts/${seg(item.receipt_pdf)}`, "Receipt PDF", item.receipt_pdf, {
        testid: "receipt-link", class: "nowrap", "aria-label": `Receipt PDF for transaction ${t.transaction_number}`,
      })
      : h("span.muted", {}, "None")),
    item.status === "Complete" ? h("td", {}, h("span.muted", {}, "—")) : followUpCell(item, base, data, refreshTotals),
  );
}

// One exception's follow-up: its state and note, saved together; who set them and when.
function followUpCell(item, base, data, refreshTotals) {
  const number = item.transaction.transaction_number;
  const current = data.follow_up[number] || { state: "open", note: "" };
  const state = h("select", { testid: "follow-up-state", "aria-label": `Follow-up of transaction ${number}` },
    FOLLOW_UP_STATES.map((s) => h("option", { value: s, selected: current.state === s }, FOLLOW_UP_LABELS[s])));
  const note = h("input", {
    type: "text", maxlength: "1000", value: current.note || "", placeholder: "Note",
    testid: "follow-up-note", "aria-label": `Note on transaction ${number}`,
  });
  const save = h("button.btn.btn-small.btn-secondary", { type: "submit", testid: "follow-up-save" }, "Save");
  const who = h("span.sub.muted", { testid: "follow-up-who", "aria-live": "polite" }, followUpWho(data.follow_up[number]));
  const form = h("form.follow-up", { "aria-label": `Follow-up of transaction ${number}` }, state, note, save);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    save.disabled = true;
    const saved = await attempt(() => api("PUT", `${base}/follow-up/${seg(number)}`, { state: state.value, note: note.value }));
    save.disabled = false;
    if (!saved) return;
    data.follow_up[number] = saved;
    note.value = saved.note;
    who.textContent = followUpWho(saved);
    form.closest("tr")?.setAttribute("data-follow-up", saved.state);
    await refreshTotals();
  });
  return h("td.follow-up-cell", {}, form, who);
}

function evidence(item) {
  const e = item.evidence;
  const x = item.expense;
  const note = item.note ? h("p.note", {}, sentence(item.note)) : null;
  if (!e) return [h("span.muted", {}, x ? "Matched" : "No matching expense"), note];
  const offset = e.date_offset_days === 0 ? "same day"
    : `${Math.abs(e.date_offset_days)} day${Math.abs(e.date_offset_days) === 1 ? "" : "s"} ${e.date_offset_days > 0 ? "after" : "before"}`;
  const facts = [
    ["Expense", x ? [x.expense_id, x.purpose].filter(Boolean).join(" · ") : "—"],
    ["Employee", `${e.employee}${e.via_alias ? " (through an alias)" : ""}`],
    ["Expense amount", money(e.amount)],
    ["Expense date", offset],
    ["Merchant similarity", `${Math.round(e.merchant_similarity)}%`],
    ["Score", String(Math.round(e.score * 10) / 10)],
    ["Rules", e.rules?.length ? h("ul", {}, e.rules.map((rule) => h("li", {}, rule))) : "—"],
  ];
  return [
    h("details.evidence", { testid: "evidence" },
      h("summary", {}, `Matched, score ${Math.round(e.score)}`, e.via_alias ? " (alias)" : ""),
      h("dl", {}, facts.map(([k, v]) => [h("dt", {}, k), h("dd", {}, v)]))),
    note,
  ];
}

// -- unmatched expenses --------------------------------------------------------------------------
function coding(c = {}) {
  if (c.gl_account && c.type !== "job") return `GL ${c.gl_account}`;
  const parts = [c.job && `Job ${c.job}`, c.phase && `Phase ${c.phase}`, c.cost_type && `Cost type ${c.cost_type}`].filter(Boolean);
  return parts.length ? parts.join(" · ") : "Not coded";
}

function unmatchedSection(unsorted) {
  const expenses = [...unsorted].sort((a, b) => String(a.date).localeCompare(String(b.date)));
  const content = expenses.length
    ? h("div.table-wrap", { tabindex: "0" }, h("table.data-table", { testid: "unmatched-table" },
      h("thead", {}, h("tr", {}, ["Date", "Employee", "Merchant", "Amount", "Purpose", "Coding", "Receipt"].map(
        (label) => h(label === "Amount" ? "th.num" : "th", { scope: "col" }, label)))),
      h("tbody", {}, expenses.map((x) => h("tr", { dataset: { expense: x.expense_id } },
        h("td.nowrap", {}, day(x.date)),
        h("td", {}, x.employee_name || "—"),
        h("td", {}, x.merchant || "—"),
        h("td.num.nowrap", {}, money(x.amount)),
        h("td", {}, x.purpose || x.expense_title || "—"),
        h("td", {}, coding(x.coding)),
        h("td", {}, x.attachments?.length ? "Attached" : "None"))))))
    : h("p.muted", {}, "Every expense matched a statement transaction.");
  return h("section.card", { "aria-labelledby": "unmatched-heading" },
    h("h2#unmatched-heading", {}, "Unmatched expenses ", h("span.count", {}, String(expenses.length))),
    h("p.muted", {}, "Expenses on the receipts report that match no transaction on the statement."),
    content);
}

// -- checks --------------------------------------------------------------------------------------
function checksSection(checks, warnings) {
  if (!checks.length && !warnings.length) return null;
  return h("section.card", { "aria-labelledby": "checks-heading" },
    h("h2#checks-heading", {}, "Checks to look at ", h("span.count", {}, String(checks.length + warnings.length))),
    h("p.muted", {}, "Totals and details in the documents that did not add up, or looked unusual."),
    h("ul.checks", {},
      checks.map((c) => h("li", {}, sentence(c.message))),
      warnings.map((w) => h("li", {}, sentence(typeof w === "string" ? w : w?.message || "")))));
}
