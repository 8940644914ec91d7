// Small helpers shared by every view: building elements, and formatting dates, money and sizes.

/** An element: h("a.btn", {href: "#/"}, "text", child, ...). Attributes starting with "on" are listeners. */
export function h(tag, attrs = {}, ...children) {
  // "tag#id.class.class": each part optional but the tag.
  const [head, ...classes] = tag.split(".");
  const [name, id] = head.split("#");
  const el = document.createElement(name || "div");
  if (id) el.id = id;
  if (classes.length) el.className = classes.join(" ");
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key.startsWith("on") && typeof value === "function") {
      el.addEventListener(key.slice(2).toLowerCase(), value);
    } else if (key === "testid") {
      el.dataset.testid = value;
    } else if (key === "dataset") {
      Object.assign(el.dataset, value);
    } else if (key in el && typeof value !== "string") {
      el[key] = value; // properties such as value, checked, disabled
    } else {
      el.setAttribute(key, value === true ? "" : String(value));
    }
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : String(child));
  }
}

/** Replace the children of `el`. */
export function fill(el, ...children) {
  el.replaceChildren();
  append(el, children);
  return el;
}

const dateFormat = new Intl.DateTimeFormat(undefined, { day: "numeric", month: "short", year: "numeric" });
const dateTimeFormat = new Intl.DateTimeFormat(undefined, {
  day: "numeric", month: "short", year: "numeric", hour: "numeric", minute: "2-digit",
});
const moneyFormat = new Intl.NumberFormat(undefined, { minimumFractionDigits: 2, maximumFractionDigits: 2 });

/** "30 Nov 2026, 14:05" from an ISO datetime; "" for none. */
export function dateTime(iso) {
  if (!iso) return "";
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? iso : dateTimeFormat.format(d);
}

/** "30 Nov 2026" from an ISO date (YYYY-MM-DD, read as a calendar day, not a UTC instant). */
export function day(iso) {
  if (!iso) return "";
  const m = /^(\d{4})-(\d{2})-(\d{2})/.exec(iso);
  if (!m) return iso;
  return dateFormat.format(new Date(Number(m[1]), Number(m[2]) - 1, Number(m[3])));
}

/** Today's date, readable: for default session names. */
export function today() {
  return dateFormat.format(new Date());
}

/** "1,234.50" from a decimal string; negative amounts keep their minus sign. */
export function money(value) {
  if (value === null || value === undefined || value === "") return "";
  const n = Number(value);
  return Number.isFinite(n) ? moneyFormat.format(n) : String(value);
}

/** "12.3 MB", in the 1024-based units file managers show ("2 GB" for 2 GiB). */
export function megabytes(bytes) {
  const kb = bytes / 1024;
  const mb = kb / 1024;
  const fmt = (n, digits) => n.toLocaleString(undefined, { maximumFractionDigits: digits });
  if (mb >= 1024) return `${fmt(mb / 1024, 1)} GB`;
  if (mb >= 10) return `${fmt(mb, 0)} MB`;
  if (mb >= 0.1) return `${fmt(mb, 1)} MB`;
  return `${fmt(Math.ceil(kb), 0)} KB`;
}

/** A server message ("the session has no files: upload …") as a sentence: capital first, full stop last. */
export function sentence(text) {
  const s = String(text ?? "").trim();
  if (!s) return "";
  const first = s.charAt(0).toUpperCase() + s.slice(1);
  return /[.!?]$/.test(first) ? first : `${first}.`;
}

/** The alias table's form of a name: upper case, spaces and dots removed ("Jane Q. Doe" → "JANEQDOE"). */
export function normaliseName(name) {
  return String(name ?? "").replace(/[\s.]+/g, "").toUpperCase();
}

/** "•••• 1234" — only ever built from the last four digits. */
export function maskedCard(last4) {
  return last4 && /^\d{4}$/.test(last4) ? `•••• ${last4}` : "";
}

/** CSS class suffix for a reconciliation status ("Missing Receipt" → "missing-receipt"). */
export function statusClass(status) {
  return String(status ?? "").toLowerCase().replace(/\s+/g, "-");
}

/** A status badge: text always, colour as a second cue. */
export function badge(text, kind = statusClass(text), attrs = {}) {
  return h(`span.badge.badge-${kind}`, attrs, text);
}

export const SESSION_STATUS_LABELS = {
  open: "Open",
  processing: "Processing",
  completed: "Completed",
  failed: "Failed",
};

/** A session status badge: the words as in the workbook, the raw value kept in `data-status`. */
export function sessionBadge(status, attrs = {}) {
  return badge(SESSION_STATUS_LABELS[status] || sentence(status).replace(/\.$/, ""), status,
    { ...attrs, dataset: { ...(attrs.dataset || {}), status } });
}

export const FILE_STATUS_LABELS = {
  awaiting_upload: "Uploading",
  uploaded: "Waiting to be read",
  extracted: "Read",
  failed: "Could not be read",
};

export const KIND_LABELS = {
  cardholder_activity: "Card statement",
  receipt_images: "Receipt images report",
  statement: "Card statement",
  receipts: "Receipt images report",
};

export const REPORT_LABELS = {
  exceptions: "Exceptions workbook (Excel)",
  pvault: "pVault import file (CSV)",
  transactions: "All transactions (CSV spreadsheet)",
  receipts: "Receipt PDFs, one per transaction (ZIP)",
  reconciliation: "Full reconciliation data for other systems (JSON)",
};
/** The order downloads are offered in: what clerks use first; the data for other systems last. */
export const REPORT_ORDER = ["exceptions", "pvault", "transactions", "receipts", "reconciliation"];

/** What went wrong with a file or a session, as a sentence a clerk can act on: the server's `problem`
 * when it sends one, else its technical `error` made a sentence. */
export function problemSentence(record) {
  return record?.problem ? sentence(record.problem) : sentence(record?.error);
}

/** The technical detail of a failure, folded away one click from the sentence; null when the sentence
 * already is the detail (no `problem` from the server) or there is none. */
export function technicalDetail(record, attrs = {}) {
  if (!record?.error || !record.problem) return null;
  return h("details.tech-detail", attrs, h("summary", {}, "Technical detail"), h("p.tech-text", {}, record.error));
}

export const RECONCILIATION_STATUSES = ["Missing Both", "Missing Receipt", "Missing Coding", "Complete"];

// -- follow-up and money (additions for the follow-up of exceptions) -------------------------------

/** The states an exception's follow-up can be in, as the API spells them, with the words shown. */
export const FOLLOW_UP_STATES = ["open", "receipt requested", "waived", "resolved outside"];
export const FOLLOW_UP_LABELS = {
  open: "Open",
  "receipt requested": "Receipt requested",
  waived: "Waived",
  "resolved outside": "Resolved outside",
};

/** "$1,234.50" or "-$22.18" from a decimal string the server summed; "" for none. */
export function dollars(value) {
  if (value === null || value === undefined || value === "") return "";
  const text = String(value).trim();
  const negative = text.startsWith("-");
  const shown = money(negative ? text.slice(1) : text);
  return `${negative ? "-" : ""}$${shown}`;
}

/** Who set a follow-up and when, in words; "" for one nobody has set. */
export function followUpWho(followUp) {
  if (!followUp || !followUp.at) return "Not followed up yet.";
  const who = followUp.by && followUp.by !== "local" ? ` by ${followUp.by}` : "";
  return `Set${who} on ${dateTime(followUp.at)}.`;
}
