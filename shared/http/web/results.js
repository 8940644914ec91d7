// A completed session's results: money totals, exceptions with their follow-up, unmatched expenses,
// unresolved names (with aliases), checks, and a bar that jumps between them. People are shown by the
// name the server says people read. The two long tables come a page at a time (table.js).

import { api, fetchWithKey, hasAccessKey, seg } from "./api.js";
import {
  FOLLOW_UP_LABELS, FOLLOW_UP_STATES, RECONCILIATION_STATUSES, badge, day, dollars, fill, followUpWho, h,
  maskedCard, money, sentence,
} from "./format.js";
import { attempt, downloadLink } from "./ui.js";
import { unresolvedSection } from "./aliases.js";
import { pvaultNote } from "./pvault.js";
import { count, pagedTable, tableState } from "./table.js";

// Filters, searches, sort and page survive a reload of the results (after an alias), per session.
const settings = new Map();
// The results last drawn in each container: a slower, older drawing stops rather than add to them.
const drawn = new WeakMap();

function tableSettings(id) {
  if (!settings.has(id)) {
    settings.set(id, {
      showAll: false, employee: "", status: "",
      exceptions: tableState({ sort: "date" }), unmatched: tableState({ sort: "date" }),
    });
  }
  return settings.get(id);
}

export async function renderResults(container, session, view, { reconcile }) {
  const base = `/api/sessions/${seg(session.id)}`;
  const data = await attempt(() => api("GET", `${base}/transactions`));
  if (!data || !view.alive) return;
  const cardholders = [...new Set(data.transactions.map((t) => t.transaction.cardholder).filter(Boolean))].sort();
  data.follow_up = data.follow_up || {};
  const opts = tableSettings(session.id);
  const totals = h("section.card.totals-section", { "aria-labelledby": "totals-heading", testid: "totals" });
  const showTotals = (fresh) => fill(totals, totalsContent(fresh));
  showTotals(data);
  // A state changed: the money still to chase and waived changed with it (summed on the server).
  const refreshTotals = async () => {
    const fresh = await attempt(() => api("GET", `${base}/transactions`));
    if (fresh && view.alive) showTotals(fresh);
  };
  const pvault = pvaultNote(data);
  pvault.id = "pvault-note";
  const checks = data.checks || [];
  const warnings = data.warnings || [];
  const drawing = {};
  drawn.set(container, drawing);
  fill(
    container,
    jumpBar([
      ["Money", "totals-heading"],
      ["pVault import", pvault.hidden ? null : pvault.id],
      ["Exceptions", "exceptions-heading"],
      ["Unmatched expenses", "unmatched-heading"],
      ["Unresolved names", "unresolved-heading"],
      ["Checks", checks.length || warnings.length ? "checks-heading" : null],
    ]),
    totals,
    pvault,
    exceptionsSection(data, opts, base, { sessionId: session.id, refreshTotals }),
  );
  // The rest starts below the first screen: drawn in a task of its own, so that no one task keeps a
  // month's page busy for long. Unless newer results were drawn meanwhile.
  await new Promise((resolve) => setTimeout(resolve, 0));
  if (!view.alive || drawn.get(container) !== drawing) return;
  container.append(...[
    unmatchedSection(data.unmatched_expenses || [], opts.unmatched),
    unresolvedSection(data.unresolved_names || [], cardholders, reconcile),
    checksSection(checks, warnings),
  ].filter(Boolean));
}

/** Links to each part of the results (by heading id): from a long table to the alias field in a few presses. */
function jumpBar(targets) {
  const links = targets.filter(([, id]) => id).map(([label, id]) => {
    // The hash holds the route: the link moves focus instead of following its href.
    const link = h("a", { href: `#${id}` }, label);
    link.addEventListener("click", (event) => {
      event.preventDefault();
      const target = document.getElementById(id);
      if (!target) return;
      if (!target.hasAttribute("tabindex")) target.setAttribute("tabindex", "-1");
      target.focus();
    });
    return h("li", {}, link);
  });
  return h("nav.jump-bar.no-print", { "aria-label": "Jump to", testid: "jump-bar" },
    h("span.jump-title", { "aria-hidden": "true" }, "Jump to"), h("ul", {}, links));
}

/** The name people read for a cardholder as the statement prints it. */
function personOf(data, holder) {
  return (data.people && data.people[holder]) || holder || "";
}

// -- money ---------------------------------------------------------------------------------------
const EMPLOYEE_MONEY = ["Employee", "Card total", "Exceptions", "Waived", "Still to chase"];

function totalsContent(data) {
  const t = data.totals;
  if (!t) return null;
  const money2 = (m) => [
    h("td.num", { dataset: { label: "Transactions" } }, String(m.count)),
    h("td.num.nowrap", { dataset: { label: "Amount" } }, dollars(m.amount)),
  ];
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
      h("div.table-wrap", { tabindex: "0" }, h("table.data-table.cards", { testid: "totals-statuses" },
        h("caption.visually-hidden", {}, "Money per status"),
        h("thead", {}, h("tr", {}, h("th", { scope: "col" }, "Status"), h("th.num", { scope: "col" }, "Transactions"), h("th.num", { scope: "col" }, "Amount"))),
        h("tbody", {}, RECONCILIATION_STATUSES.filter((s) => t.statuses[s]).map((s) => h("tr", { testid: "total-status", dataset: { status: s } },
          h("th", { scope: "row" }, badge(s)), money2(t.statuses[s])))),
        h("tfoot", {}, h("tr", {}, h("th", { scope: "row" }, "Total"), money2(t.all))))),
      h("div.table-wrap", { tabindex: "0" }, h("table.data-table.cards", { testid: "totals-employees" },
        h("caption.visually-hidden", {}, "Money per employee"),
        h("thead", {}, h("tr", {}, EMPLOYEE_MONEY.map((label, i) => h(i ? "th.num" : "th", { scope: "col" }, label)))),
        h("tbody", {}, employees.map(([holder, e]) => h("tr", { testid: "total-employee", dataset: { cardholder: holder } },
          h("th", { scope: "row" }, e.name || holder || "—"),
          [e.all, e.exceptions, e.waived, e.to_chase].map((m, i) => h("td.num.nowrap", {
            dataset: { label: EMPLOYEE_MONEY[i + 1] },
          }, dollars(m.amount))))))))),
  ];
}

// -- exceptions ----------------------------------------------------------------------------------
function exceptionsSection(data, opts, base, { sessionId, refreshTotals }) {
  const all = data.transactions;
  const exceptions = all.filter((t) => t.status !== "Complete");
  const employees = [...new Set(all.map((t) => t.transaction.cardholder).filter(Boolean))]
    .sort((a, b) => personOf(data, a).localeCompare(personOf(data, b)));
  const employeeSelect = h("select", { id: "employee-filter", testid: "employee-filter" },
    h("option", { value: "" }, "All employees"),
    employees.map((e) => h("option", { value: e, selected: opts.employee === e }, personOf(data, e))));
  const statusSelect = h("select", { id: "exception-status-filter", testid: "exception-status-filter" });
  const showAll = h("input", { id: "show-all", type: "checkbox", testid: "show-all", checked: opts.showAll });
  const title = h("span");
  const shownCount = h("span.count", { testid: "count-exceptions" });
  const viewer = receiptViewer(base);
  const followUpState = (item) => (data.follow_up[item.transaction.transaction_number] || { state: "open" }).state;
  const t = (item) => item.transaction;

  const table = pagedTable({
    id: "exceptions",
    label: "Exceptions",
    caption: "Exceptions; each column heading sorts the table",
    testid: "exceptions-table",
    tableClass: "exceptions",
    rowTestid: "exception-row",
    columns: [
      { key: "date", label: "Date", sort: (i) => `${t(i).transaction_date} ${t(i).transaction_number}` },
      { key: "employee", label: "Employee", sort: (i) => personOf(data, t(i).cardholder) },
      { key: "card", label: "Card", sort: (i) => t(i).card_last4 || "" },
      { key: "merchant", label: "Merchant", sort: (i) => t(i).merchant || "" },
      { key: "amount", label: "Amount", num: true, sort: (i) => Number(t(i).net) },
      { key: "status", label: "Status", sort: (i) => RECONCILIATION_STATUSES.indexOf(i.status) },
      { key: "match", label: "Match", sort: (i) => i.match_confidence ?? (i.evidence ? i.evidence.score : -1) },
      { key: "receipt", label: "Receipt", sort: receiptKind },
      { key: "follow-up", label: "Follow-up", sort: (i) => FOLLOW_UP_STATES.indexOf(followUpState(i)) },
    ],
    items: opts.showAll ? all : exceptions,
    noun: nounOf(opts.showAll),
    state: opts.exceptions,
    searchLabel: "Search merchant, amount or employee",
    search: (i) => [t(i).merchant, t(i).city, personOf(data, t(i).cardholder), t(i).cardholder, t(i).employee_id,
      i.expense?.merchant, i.expense?.employee_name].join(" "),
    amounts: (i) => [t(i).net],
    filter: (i) => (!opts.employee || t(i).cardholder === opts.employee) && (!opts.status || i.status === opts.status),
    emptyText: "Every transaction is complete: there are no exceptions.",
    row: (item) => exceptionRow(item, base, data, refreshTotals, viewer),
    onRender: () => viewer.close({ restore: false }),
  });

  const statusOptions = () => {
    const choices = RECONCILIATION_STATUSES.filter((s) => opts.showAll || s !== "Complete");
    if (!choices.includes(opts.status)) opts.status = "";
    fill(statusSelect, h("option", { value: "" }, "All statuses"),
      choices.map((s) => h("option", { value: s, selected: opts.status === s }, s)));
  };
  // The heading says what the table holds: the exceptions, or with "Show all" every transaction.
  const headline = () => {
    title.textContent = opts.showAll ? "All transactions " : "Exceptions ";
    shownCount.textContent = count((opts.showAll ? all : exceptions).length);
  };
  employeeSelect.addEventListener("change", () => { opts.employee = employeeSelect.value; table.refresh(); });
  statusSelect.addEventListener("change", () => { opts.status = statusSelect.value; table.refresh(); });
  showAll.addEventListener("change", () => {
    opts.showAll = showAll.checked;
    statusOptions();
    headline();
    table.setItems(opts.showAll ? all : exceptions, nounOf(opts.showAll));
  });
  statusOptions();
  headline();

  return h("section.card", { "aria-labelledby": "exceptions-heading" },
    h("h2#exceptions-heading", {}, title, shownCount),
    h("p.muted", {}, "Transactions that are not Complete: a receipt, the coding or the whole expense is missing. "
      + "Record where each one stands; it is kept when the session is reconciled again."),
    h("div.actions.follow-up-actions", {},
      h("a.btn.btn-secondary", { href: `#/sessions/${seg(sessionId)}/chase`, testid: "chase-link" }, "Chase list"),
      downloadLink(`${base}/workbook`, "Workbook with follow-up (XLSX)", "exceptions.xlsx", {
        testid: "download-workbook-now", class: "btn btn-secondary",
      })),
    h("div.filters", {},
      table.searchField,
      h("div.field", {}, h("label", { for: "employee-filter" }, "Employee"), employeeSelect),
      h("div.field", {}, h("label", { for: "exception-status-filter" }, "Status"), statusSelect),
      h("div.field.check", {}, showAll, h("label", { for: "show-all" }, "Show all transactions"))),
    table.note,
    table.wrap,
    table.pager,
  );
}

const nounOf = (showAll) => (showAll ? ["transaction", "transactions"] : ["exception", "exceptions"]);

/** 2 a receipt image, 1 the expense form alone, 0 no PDF: the Receipt column's sort and its words. */
function receiptKind(item) {
  if (!item.receipt_pdf) return 0;
  // Until the server says (`receipt_image`), a status missing its receipt has the form alone.
  const image = item.receipt_image ?? !/Receipt|Both/.test(item.status);
  return image ? 2 : 1;
}

function exceptionRow(item, base, data, refreshTotals, viewer) {
  const t = item.transaction;
  const place = [t.city, t.state].filter(Boolean).join(", ");
  const followUp = data.follow_up[t.transaction_number];
  return h("tr", {
    dataset: { status: item.status, transaction: t.transaction_number, followUp: followUp?.state || "" },
  },
    h("td.nowrap", {}, day(t.transaction_date)),
    h("td", {}, personOf(data, t.cardholder) || "—", t.employee_id ? h("span.sub.muted", {}, `Employee ${t.employee_id}`) : null),
    h("td.nowrap", {}, maskedCard(t.card_last4) || "—"),
    h("td", {}, t.merchant, place ? h("span.sub.muted", {}, place) : null),
    h("td.num.nowrap", {}, money(t.net)),
    h("td", {}, badge(item.status)),
    h("td.evidence-cell", {}, evidence(item, data)),
    h("td", {}, receiptCell(item, viewer)),
    item.status === "Complete" ? h("td", {}, h("span.muted", {}, "—")) : followUpCell(item, base, data, refreshTotals),
  );
}

function receiptCell(item, viewer) {
  const kind = receiptKind(item);
  const number = item.transaction.transaction_number;
  if (!kind) return h("span.muted", {}, "None");
  const open = (testid, label, named) => {
    const button = h("button.btn-link.receipt-open", {
      type: "button", testid, "aria-expanded": "false", "aria-label": `${named} of transaction ${number}`,
    }, label);
    button.addEventListener("click", () => viewer.show(item, button, kind === 2 ? "Receipt" : "Expense form"));
    return button;
  };
  if (kind === 2) return open("receipt-view", "Receipt", "Receipt");
  return [h("span.muted.small", { testid: "expense-form-only" }, "Expense form, no receipt image"),
    h("span.sub", {}, open("expense-form-view", "View expense form", "View expense form"))];
}

// -- the receipt viewer --------------------------------------------------------------------------
/** One receipt shown at a time, in a row under its transaction; Escape or Close put focus back. */
function receiptViewer(base) {
  let shown = null; // {row, button, blobUrl}
  const close = ({ restore = true } = {}) => {
    if (!shown) return;
    const { row, button, blobUrl } = shown;
    shown = null;
    row.remove();
    button.setAttribute("aria-expanded", "false");
    if (blobUrl) URL.revokeObjectURL(blobUrl);
    if (restore && button.isConnected) button.focus();
  };
  const show = async (item, button, what) => {
    const again = shown?.button === button;
    close({ restore: again });
    if (again) return; // a second click closes it
    const t = item.transaction;
    const title = `${what} for ${t.merchant}, ${day(t.transaction_date)}, ${dollars(t.net)}`;
    const path = `${base}/reports/receipts/${seg(item.receipt_pdf)}`;
    const headingId = `receipt-heading-${String(t.transaction_number).replace(/[^\w-]/g, "_")}`;
    const frame = h("iframe.receipt-frame", { title: `${title}, PDF`, testid: "receipt-frame" });
    const closeButton = h("button.btn.btn-secondary.btn-small", { type: "button", testid: "receipt-close" }, "Close");
    const panel = h("section.receipt-viewer", { testid: "receipt-viewer", tabindex: "-1", "aria-labelledby": headingId },
      h("div.receipt-head", {},
        h("h3", { id: headingId }, title),
        h("div.receipt-actions", {},
          downloadLink(path, "Download", item.receipt_pdf, { testid: "receipt-download", class: "btn btn-secondary btn-small" }),
          closeButton)),
      frame);
    const owner = button.closest("tr");
    const row = h("tr.receipt-row", {}, h("td", { colspan: String(owner.cells.length) }, panel));
    owner.after(row);
    const mine = { row, button, blobUrl: "" };
    shown = mine;
    button.setAttribute("aria-expanded", "true");
    closeButton.addEventListener("click", () => close());
    panel.addEventListener("keydown", (event) => {
      if (event.key !== "Escape") return;
      event.preventDefault();
      close();
    });
    panel.focus();
    if (!hasAccessKey()) {
      frame.src = `${path}?inline=1`;
      return;
    }
    // With a key, the PDF comes with the key in a header (never in a URL) and shows from a blob: URL.
    const pdf = await attempt(() => pdfWithKey(`${path}?inline=1`));
    if (!pdf || shown !== mine) return;
    mine.blobUrl = URL.createObjectURL(pdf);
    frame.src = mine.blobUrl;
  };
  return { show, close };
}

async function pdfWithKey(path) {
  const response = await fetchWithKey(path);
  return new Blob([await response.blob()], { type: "application/pdf" });
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

// The match in words: the server's (`match_words`, `match_confidence`); worked out here only until it
// sends them. Merchant spellings this alike (0–100) read as "similar".
const SIMILAR_MERCHANT = 80;

function daysApart(offset, after = "after", before = "before") {
  const n = Math.abs(offset);
  if (!n) return "same day";
  return `${n} day${n === 1 ? "" : "s"} ${offset > 0 ? after : before}`;
}

function fallbackWords(e) {
  const person = e.via_alias ? "same person (through an alias)" : "same person";
  const merchant = e.merchant_similarity >= SIMILAR_MERCHANT ? "similar merchant" : "different merchant";
  return `Match: ${person}, same amount, ${daysApart(e.date_offset_days, "apart", "apart")}, ${merchant}`;
}

function evidence(item, data) {
  const e = item.evidence;
  const x = item.expense;
  const note = item.note ? h("p.note", {}, sentence(item.note)) : null;
  if (!e) return [h("span.muted", {}, x ? "Matched" : "No matching expense"), note];
  const similarity = Math.round(e.merchant_similarity);
  const confidence = item.match_confidence;
  const facts = [
    ["Expense", x ? [x.expense_id, x.purpose].filter(Boolean).join(" · ") || "—" : "—"],
    ["Employee", `${x?.employee_name || personOf(data, item.transaction.cardholder)}${e.via_alias ? " (through an alias)" : ""}`],
    ["Expense amount", dollars(e.amount)],
    ["Expense date", daysApart(e.date_offset_days)],
    ["Merchant", `${similarity >= SIMILAR_MERCHANT ? "similar" : "different"} (${similarity}% alike)`
      + (x?.merchant ? `: ${x.merchant}` : "")],
    confidence === null || confidence === undefined ? null : ["Confidence", `${confidence} out of 100`],
  ].filter(Boolean);
  return [
    h("details.evidence", { testid: "evidence" },
      h("summary", {}, item.match_words || fallbackWords(e)),
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

function unmatchedSection(expenses, state) {
  const attached = (x) => (x.attachments?.length ? "Attached" : "None");
  const table = pagedTable({
    id: "unmatched",
    label: "Unmatched expenses",
    caption: "Unmatched expenses; each column heading sorts the table",
    testid: "unmatched-table",
    rowTestid: "unmatched-row",
    sortIds: "unmatched-sort-",
    columns: [
      { key: "date", label: "Date", sort: (x) => `${x.date} ${x.expense_id}` },
      { key: "employee", label: "Employee", sort: (x) => x.employee_name || "" },
      { key: "merchant", label: "Merchant", sort: (x) => x.merchant || "" },
      { key: "amount", label: "Amount", num: true, sort: (x) => Number(x.amount) },
      { key: "purpose", label: "Purpose", sort: (x) => x.purpose || x.expense_title || "" },
      { key: "coding", label: "Coding", sort: (x) => coding(x.coding) },
      { key: "receipt", label: "Receipt", sort: attached },
    ],
    items: expenses,
    noun: ["unmatched expense", "unmatched expenses"],
    state,
    searchLabel: "Search merchant, amount or employee",
    search: (x) => [x.merchant, x.employee_name, x.expense_id, x.purpose, x.expense_title].join(" "),
    amounts: (x) => [x.amount],
    emptyText: "Every expense matched a statement transaction.",
    row: (x) => h("tr", { dataset: { expense: x.expense_id } },
      h("td.nowrap", {}, day(x.date)),
      h("td", {}, x.employee_name || "—"),
      h("td", {}, x.merchant || "—"),
      h("td.num.nowrap", {}, money(x.amount)),
      h("td", {}, x.purpose || x.expense_title || "—"),
      h("td", {}, coding(x.coding)),
      h("td", {}, attached(x))),
  });
  return h("section.card", { "aria-labelledby": "unmatched-heading" },
    h("h2#unmatched-heading", {}, "Unmatched expenses ", h("span.count", {}, count(expenses.length))),
    h("p.muted", {}, "Expenses on the receipts report that match no transaction on the statement."),
    expenses.length
      ? [h("div.filters", {}, table.searchField), table.note, table.wrap, table.pager]
      : h("p.muted", {}, "Every expense matched a statement transaction."));
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
