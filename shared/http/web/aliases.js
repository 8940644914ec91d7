// Aliases: the unresolved names of a session's results (each with a form to add an alias) and the
// aliases page (#/aliases).

import { api } from "./api.js";
import { fill, h, normaliseName } from "./format.js";
import { attempt, inform } from "./ui.js";

export function renderAliases(container, view) {
  if (!view.alive) return;
  fill(container, h("section.card", {}, h("h1", {}, "Aliases")));
}

// -- unresolved names and aliases ----------------------------------------------------------------
export function unresolvedSection(names, cardholders, reconcile) {
  const expenseNames = names.filter((n) => n.side === "receipts").map((n) => n.name);
  const rows = names.map((n, i) => unresolvedRow(n, i, cardholders, expenseNames, reconcile));
  return h("section.card", { "aria-labelledby": "unresolved-heading" },
    h("h2#unresolved-heading", {}, "Unresolved names ", h("span.count", { testid: "count-unresolved" }, String(names.length))),
    h("p.muted", {}, "Names on the expense reports that match no cardholder, and cardholders nobody's expenses match. "
      + "An alias links the two; it is remembered for later sessions too."),
    names.length
      ? h("ul.unresolved", { testid: "unresolved-list" }, rows)
      : h("p.muted", { testid: "unresolved-list" }, "Every name matched."),
    expenseNames.length
      ? h("datalist", { id: "expense-names" }, expenseNames.map((n) => h("option", { value: n })))
      : null);
}

function unresolvedRow(entry, index, cardholders, expenseNames, reconcile) {
  const fromReceipts = entry.side === "receipts";
  const controlId = `alias-${index}`;
  let control;
  if (fromReceipts) {
    // The name typed in the expense system → one of the statement's cardholders.
    control = h("select", { id: controlId, testid: "alias-cardholder", required: true },
      h("option", { value: "" }, "Choose a cardholder…"),
      cardholders.map((c) => h("option", { value: c, selected: normaliseName(c) === entry.suggestion }, c)));
  } else {
    // A cardholder nobody's expenses reach ← the name the expense system uses for them.
    const suggested = expenseNames.find((n) => normaliseName(n) === entry.suggestion) || entry.suggestion || "";
    control = h("input", {
      id: controlId, type: "text", testid: "alias-cardholder", required: true, list: "expense-names", value: suggested, autocomplete: "off",
    });
  }
  const button = h("button.btn.btn-primary.btn-small", { type: "submit", testid: "add-alias" }, "Add alias");
  const form = h("form.alias-form", {},
    h("label", { for: controlId }, fromReceipts ? "Belongs to statement cardholder" : "Name used on expense reports"),
    h("div.alias-inputs", {}, control, button));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const chosen = control.value.trim();
    if (!chosen) {
      inform(fromReceipts ? "Choose the cardholder this name belongs to." : "Type the name the expense reports use for this cardholder.");
      control.focus();
      return;
    }
    const alias = fromReceipts ? { name: entry.name, cardholder: chosen } : { name: chosen, cardholder: entry.name };
    button.disabled = true;
    control.disabled = true;
    const saved = await attempt(() => api("POST", "/api/aliases", alias));
    if (saved && await reconcile()) {
      inform(`Alias saved: “${alias.name}” is ${alias.cardholder}. Reconciling again; the tables update when it is done.`);
      return;
    }
    button.disabled = false;
    control.disabled = false;
  });
  return h("li.unresolved-row", { testid: "unresolved-row", dataset: { name: entry.name, normalized: entry.normalized, side: entry.side } },
    h("div.unresolved-name", {},
      h("strong", {}, entry.name),
      entry.normalized && entry.normalized !== entry.name ? h("span.muted.small", {}, `Compared as ${entry.normalized}`) : null,
      h("span.muted.small", {}, fromReceipts ? "Name on the expense reports; matches no cardholder" : "Cardholder on the statement; no expenses under this name")),
    form);
}
