// What the pVault import holds, and why the others are held back: placed beside its download.
//
// pvault.csv takes an employee's rows only when all their transactions are Complete, so one
// exception each leaves it empty. The review's `pvault` (shared/report/pvault.py) says how many
// employees and rows it holds and, per held-back employee, what keeps them out, closest to complete
// first; this turns it into words a person can act on.

import { h, money } from "./format.js";

// Held-back employees shown without opening the list.
const OPEN_UP_TO = 5;

function plural(count, one, many = `${one}s`) {
  return `${count.toLocaleString()} ${count === 1 ? one : many}`;
}

function who(held) {
  return held.cardholder && held.cardholder !== held.employee
    ? `${held.cardholder} (${held.employee})`
    : held.employee;
}

function heldBackItem(held) {
  const counts = Object.entries(held.not_complete || {});
  const missing = counts.reduce((sum, [, count]) => sum + count, 0);
  const statuses = counts.map(([status, count]) => `${count} ${status}`).join(", ");
  return h("li", { testid: "pvault-held-back" },
    h("strong", {}, who(held)),
    `: ${missing} of ${plural(held.transactions, "transaction")} not Complete (${statuses}); `,
    `${money(held.not_complete_amount)} of ${money(held.amount)} held back`);
}

function headline(summary) {
  const held = summary.held_back || [];
  if (!summary.total_transactions) return "The pVault import is empty: the statement has no transactions.";
  if (!held.length) {
    return `The pVault import holds all ${plural(summary.total_employees, "employee")}: `
      + `${plural(summary.rows, "row")} (${money(summary.amount)}).`;
  }
  const rule = "one transaction that is not Complete holds back all of that employee's rows";
  if (!summary.rows) {
    const everyone = summary.total_employees === 1
      ? "the only employee has"
      : `every one of the ${summary.total_employees.toLocaleString()} employees has`;
    return `The pVault import is empty: ${everyone} at least one transaction that is not Complete, and ${rule} `
      + `(${summary.complete_transactions.toLocaleString()} of `
      + `${plural(summary.total_transactions, "transaction")} are Complete).`;
  }
  return `The pVault import holds ${summary.employees.toLocaleString()} of `
    + `${plural(summary.total_employees, "employee")}: ${plural(summary.rows, "row")} `
    + `(${money(summary.amount)}). ${plural(held.length, "employee is", "employees are")} held back: ${rule}.`;
}

/** What the pVault import of `review` holds and who is held back, closest to complete first. */
export function pvaultNote(review) {
  const summary = review?.pvault;
  if (!summary) return h("div.pvault-note", { testid: "pvault-note", hidden: true });
  const held = summary.held_back || [];
  const list = held.length
    ? h("details.pvault-held-back", { testid: "pvault-details", open: held.length <= OPEN_UP_TO },
      h("summary", {}, `Held back: ${plural(held.length, "employee")}, closest to complete first`),
      h("ol", {}, held.map(heldBackItem)))
    : null;
  return h("div.pvault-note", { testid: "pvault-note" }, h("p", { testid: "pvault-summary" }, headline(summary)), list);
}
