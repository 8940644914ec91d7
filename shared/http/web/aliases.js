// Aliases: the unresolved names of a session's results (each with its candidates ranked, a preview of
// what an alias would change before it is saved, and an Undo after), and the aliases page (#/aliases):
// every alias, searchable, with the sessions it reached; edit, delete, undo, reconcile those again.

import { api, seg } from "./api.js";
import { dateTime, dollars, fill, h, normaliseName } from "./format.js";
import { attempt, inform, setTitle } from "./ui.js";

// == the aliases page ============================================================================
const pageState = { search: "" }; // kept while the page is open

export function renderAliases(container, view) {
  if (!view.alive) return;
  setTitle("Aliases");
  let usage = null;
  const body = h("tbody");
  const empty = h("p.empty.muted", { testid: "aliases-empty" }, "Loading aliases…");
  const shownNote = h("p.muted.small", { "aria-live": "polite", testid: "aliases-shown" });
  const change = h("div.alias-change", { testid: "alias-change", role: "status", "aria-live": "polite", hidden: true });
  const search = h("input", {
    id: "alias-search", type: "search", testid: "alias-search", value: pageState.search, autocomplete: "off",
    placeholder: "Part of a name or cardholder",
  });
  const wrap = h("div.table-wrap", { tabindex: "0", hidden: true }, h("table.data-table", { testid: "alias-table" },
    h("caption.visually-hidden", {}, "Aliases"),
    h("thead", {}, h("tr", {},
      h("th", { scope: "col" }, "Name on expense reports"),
      h("th", { scope: "col" }, "Statement cardholder"),
      h("th", { scope: "col" }, "Sessions it reached"),
      h("th", { scope: "col" }, h("span.visually-hidden", {}, "Actions")))),
    body));
  let editing = null; // the alias being edited: its row is a form

  const render = () => {
    const entries = usage ? usage.aliases : [];
    const text = pageState.search.trim();
    const key = normaliseName(text);
    const shown = entries.filter((a) => !text || a.name.includes(key) || a.cardholder.includes(key)
      || a.sessions.some((s) => (s.name || "").toLowerCase().includes(text.toLowerCase())));
    fill(body, shown.map((a) => (editing === a.name ? editRow(a) : aliasRow(a))));
    wrap.hidden = shown.length === 0;
    empty.hidden = shown.length > 0;
    empty.textContent = entries.length ? "No alias matches this search."
      : "No aliases yet. They are added from a session's unresolved names.";
    shownNote.textContent = entries.length ? `Showing ${shown.length} of ${entries.length} aliases.` : "";
  };

  const load = async () => {
    const answer = await attempt(() => api("GET", "/api/aliases/usage"));
    if (!answer || !view.alive) return;
    usage = answer;
    render();
    fill(readNote, usage.older_not_read
      ? `Sessions reached are read from your ${usage.sessions_read} newest completed sessions; older ones are not shown.`
      : "");
  };
  const readNote = h("p.muted.small");

  search.addEventListener("input", () => {
    pageState.search = search.value;
    render();
  });

  /** Say what changed, with an Undo and, when the alias reached completed sessions, a reconcile. */
  const changed = (sentence, undo, sessions) => {
    const done = sessions.filter((s) => s.status === "completed");
    const undoButton = h("button.btn.btn-secondary.btn-small", { type: "button", testid: "alias-undo" }, "Undo");
    undoButton.addEventListener("click", async () => {
      undoButton.disabled = true;
      if (await attempt(undo)) {
        inform("Undone: the alias is as it was.");
        change.hidden = true;
        await load();
      } else {
        undoButton.disabled = false;
      }
    });
    const reconcileButton = done.length ? h("button.btn.btn-primary.btn-small", { type: "button", testid: "alias-reconcile" },
      done.length === 1 ? `Reconcile “${sessionLabel(done[0])}” again` : `Reconcile the ${done.length} sessions it reached again`) : null;
    reconcileButton?.addEventListener("click", async () => {
      reconcileButton.disabled = true;
      let started = 0;
      for (const s of done) {
        if (await attempt(() => api("POST", `/api/sessions/${seg(s.id)}/reconcile`))) started += 1;
      }
      inform(`${started} ${started === 1 ? "session is" : "sessions are"} being reconciled again; open ${started === 1 ? "it" : "them"} to see the new results.`);
    });
    fill(change, h("p", {}, sentence),
      done.length ? h("p.muted.small", {}, "The reconciliations of the sessions it reached were made with the alias as it was.") : null,
      h("div.alias-actions", {}, undoButton, reconcileButton));
    change.hidden = false;
    undoButton.focus();
  };

  const aliasRow = (a) => {
    const edit = h("button.btn-link", { type: "button", testid: "alias-edit" }, "Edit");
    const remove = h("button.btn-link.danger", { type: "button", testid: "alias-delete" }, "Delete");
    edit.addEventListener("click", () => {
      editing = a.name;
      render();
      body.querySelector('[data-testid="alias-edit-cardholder"]')?.focus();
    });
    remove.addEventListener("click", async () => {
      remove.disabled = true;
      const gone = await attempt(() => api("DELETE", `/api/aliases/${seg(a.name)}`));
      if (!gone) { remove.disabled = false; return; }
      await load();
      changed(`Alias deleted: “${a.name}” is no longer ${a.cardholder}.`,
        () => api("POST", "/api/aliases", { name: a.name, cardholder: a.cardholder }), a.sessions);
    });
    return h("tr", { testid: "alias-row", dataset: { name: a.name, cardholder: a.cardholder } },
      h("th", { scope: "row" }, a.name),
      h("td", {}, a.cardholder),
      h("td", {}, reachedList(a.sessions)),
      h("td.row-actions", {}, edit, " ", remove));
  };

  const editRow = (a) => {
    const nameInput = h("input.alias-edit-input", { type: "text", id: "alias-edit-name", testid: "alias-edit-name", value: a.name, autocomplete: "off" });
    const holderInput = h("input.alias-edit-input", { type: "text", id: "alias-edit-cardholder", testid: "alias-edit-cardholder", value: a.cardholder, autocomplete: "off" });
    const preview = h("div.alias-preview-area", { "aria-live": "polite" });
    const save = h("button.btn.btn-primary.btn-small", { type: "submit", testid: "alias-save" }, "Save");
    const cancel = h("button.btn-link", { type: "button", testid: "alias-cancel" }, "Cancel");
    let checked = null; // the cardholder whose preview is shown: a second Save saves
    const form = h("form.alias-edit", { id: `edit-${a.name}` },
      h("div.alias-inputs", {},
        h("label.visually-hidden", { for: "alias-edit-name" }, "Name on expense reports"), nameInput,
        h("label.visually-hidden", { for: "alias-edit-cardholder" }, "Statement cardholder"), holderInput),
      preview, h("div.alias-actions", {}, save, cancel));
    cancel.addEventListener("click", () => { editing = null; render(); });
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      const name = nameInput.value.trim();
      const cardholder = holderInput.value.trim();
      if (!name || !cardholder) {
        inform("An alias needs the name on the expense reports and the statement cardholder.");
        return;
      }
      // Before saving: what the changed alias would do in the sessions it reached (newest three).
      const sessions = a.sessions.filter((s) => s.status === "completed").slice(0, 3);
      const key = `${normaliseName(name)}→${normaliseName(cardholder)}`;
      if (sessions.length && checked !== key) {
        save.disabled = true;
        const previews = [];
        for (const s of sessions) {
          const p = await attempt(() => api("POST", `/api/sessions/${seg(s.id)}/alias-preview`, { name, cardholder }));
          if (!p) { save.disabled = false; return; }
          previews.push([s, p]);
        }
        checked = key;
        const nothing = previews.every(([, p]) => p.matches_nothing);
        fill(preview, h(`div.alias-preview${nothing ? ".alias-warning" : ""}`, { testid: nothing ? "alias-warning" : "alias-preview" },
          h("ul.alias-preview-list", {}, previews.map(([s, p]) => h("li", {}, h("strong", {}, `${sessionLabel(s)}: `), p.message)))));
        save.textContent = nothing ? "Save anyway" : "Save";
        save.disabled = false;
        return;
      }
      save.disabled = true;
      const edited = await attempt(() => api("PUT", `/api/aliases/${seg(a.name)}`, { name, cardholder }));
      if (!edited) { save.disabled = false; return; }
      editing = null;
      await load();
      const affected = [...a.sessions, ...((usage?.aliases || []).find((x) => x.name === edited.name)?.sessions || [])];
      const unique = [...new Map(affected.map((s) => [s.id, s])).values()];
      changed(`Alias changed: “${edited.name}” is now ${edited.cardholder} (it was “${edited.previous.name}”, ${edited.previous.cardholder}).`,
        () => api("PUT", `/api/aliases/${seg(edited.name)}`, edited.previous), unique);
    });
    nameInput.addEventListener("input", () => { checked = null; save.textContent = "Save"; });
    holderInput.addEventListener("input", () => { checked = null; save.textContent = "Save"; });
    return h("tr", { testid: "alias-row", dataset: { name: a.name, cardholder: a.cardholder, editing: "true" } },
      h("td", { colspan: "4" }, form));
  };

  fill(container, h("section.card.aliases-page", { "aria-labelledby": "aliases-heading" },
    h("h1#aliases-heading", {}, "Aliases"),
    h("p.muted", {}, "An alias says which statement cardholder a name typed on the expense reports belongs to. "
      + "Each is used by every later reconciliation. Correct or delete one that is wrong, then reconcile the sessions it reached again."),
    change,
    h("div.filters", {}, h("div.field", {}, h("label", { for: "alias-search" }, "Search aliases"), search)),
    shownNote, empty, wrap, readNote));
  load();
}

function sessionLabel(s) {
  return s.name?.trim() || `Session of ${dateTime(s.created)}`;
}

function reachedList(sessions) {
  if (!sessions.length) return h("span.muted", {}, "None of the recent sessions");
  return h("ul.alias-sessions", {}, sessions.map((s) => h("li", { testid: "alias-session", dataset: { session: s.id } },
    h("a", { href: `#/sessions/${seg(s.id)}` }, sessionLabel(s)), " ",
    h("span.muted.small", {}, s.matched
      ? `${s.matched} ${s.matched === 1 ? "expense" : "expenses"} matched, ${dollars(s.amount)}`
      : s.unresolved ? "name still unresolved: reconcile again" : "nothing matched"))));
}

// == unresolved names and aliases (a session's results) ==========================================
// The last alias saved from a session's results, by session: its Undo shows when the results come
// back from the reconciliation the alias started.
const lastSaved = new Map();

function sessionIdFromHash() {
  const match = /^#\/sessions\/([^/?#]+)/.exec(location.hash || "");
  return match ? decodeURIComponent(match[1]) : null;
}

export function unresolvedSection(names, cardholders, reconcile, sessionId = sessionIdFromHash()) {
  const expenseNames = names.filter((n) => n.side === "receipts").map((n) => n.name);
  const previews = previewQueue(sessionId);
  const rows = names.map((n, i) => unresolvedRow(n, i, cardholders, expenseNames, reconcile, sessionId, previews));
  const section = h("section.card", { "aria-labelledby": "unresolved-heading" },
    h("h2#unresolved-heading", {}, "Unresolved names ", h("span.count", { testid: "count-unresolved" }, String(names.length))),
    savedNote(sessionId, reconcile),
    h("p.muted", {}, "Names on the expense reports that match no cardholder, and cardholders nobody's expenses match. "
      + "An alias links the two; it is remembered for later sessions too. Candidates are ranked by how alike the names are "
      + "and how many of the expenses the cardholder's transactions could match. ",
      h("a", { href: "#/aliases", testid: "aliases-link" }, "See, correct or delete aliases")),
    names.length
      ? h("ul.unresolved", { testid: "unresolved-list" }, rows.map((r) => r.element))
      : h("p.muted", { testid: "unresolved-list" }, "Every name matched."),
    expenseNames.length
      ? h("datalist", { id: "expense-names" }, expenseNames.map((n) => h("option", { value: n })))
      : null);
  if (names.length && sessionId) {
    api("GET", `/api/sessions/${seg(sessionId)}/alias-candidates`).then((answer) => {
      const ranked = new Map(answer.names.map((n) => [`${n.side}:${n.normalized}`, n]));
      for (const row of rows) row.ranked(ranked.get(`${row.entry.side}:${row.entry.normalized}`));
    }).catch(() => { /* the candidates are help: the names work without them */ });
  }
  return section;
}

/** After an alias was saved here: what was saved, and its Undo. */
function savedNote(sessionId, reconcile) {
  const saved = sessionId && lastSaved.get(sessionId);
  if (!saved) return null;
  const undo = h("button.btn.btn-secondary.btn-small", { type: "button", testid: "alias-undo" }, "Undo");
  const note = h("div.alias-change", { testid: "alias-saved", role: "status" },
    h("p", {}, `Alias saved: “${saved.name}” is ${saved.cardholder}. ${saved.message}`),
    h("div.alias-actions", {}, undo));
  undo.addEventListener("click", async () => {
    undo.disabled = true;
    const back = saved.replaces
      ? () => api("POST", "/api/aliases", { name: saved.name, cardholder: saved.replaces })
      : () => api("DELETE", `/api/aliases/${seg(saved.name)}`);
    if (await attempt(back) && await reconcile()) {
      lastSaved.delete(sessionId);
      inform(saved.replaces
        ? `Undone: “${saved.name}” is ${saved.replaces} again. Reconciling again; the tables update when it is done.`
        : `Undone: the alias “${saved.name}” is deleted. Reconciling again; the tables update when it is done.`);
      return;
    }
    undo.disabled = false;
  });
  return note;
}

/** Previews of one section, one request at a time (each runs the matcher on the server). */
function previewQueue(sessionId) {
  let chain = Promise.resolve();
  return (alias) => {
    const run = chain.then(() => api("POST", `/api/sessions/${seg(sessionId)}/alias-preview`, alias));
    chain = run.catch(() => null);
    return run;
  };
}

function candidateLabel(c, typedSide) {
  const who = typedSide ? c.cardholder : c.name;
  return c.expenses ? `${who} — ${c.expenses} ${c.expenses === 1 ? "expense fits" : "expenses fit"}` : who;
}

/** A candidate good enough to choose for the clerk: expenses fit, or the names are close. */
const strong = (c) => c && (c.expenses > 0 || c.name_similarity >= 80);

function unresolvedRow(entry, index, cardholders, expenseNames, reconcile, sessionId, previews) {
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
  const hint = h("p.muted.small.alias-hint", { testid: "alias-candidates" });
  const preview = h("div.alias-preview-area", { "aria-live": "polite" });
  const form = h("form.alias-form", {},
    h("label", { for: controlId }, fromReceipts ? "Belongs to statement cardholder" : "Name used on expense reports"),
    h("div.alias-inputs", {}, control, button), hint, preview);
  let touched = false;
  let shown = null; // {key, answer|null, pending}: the preview on screen
  let warned = null; // the alias whose "matches nothing" warning was shown: the next click saves it

  const aliasOf = (chosen) => (fromReceipts ? { name: entry.name, cardholder: chosen } : { name: chosen, cardholder: entry.name });
  const keyOf = (alias) => `${normaliseName(alias.name)}→${normaliseName(alias.cardholder)}`;

  const showPreview = (chosen) => {
    if (!chosen || !sessionId) {
      shown = null;
      preview.replaceChildren();
      button.textContent = "Add alias";
      return null;
    }
    const alias = aliasOf(chosen);
    const key = keyOf(alias);
    if (shown && shown.key === key) return shown.pending;
    const mine = { key, answer: null, pending: null };
    shown = mine;
    fill(preview, h("p.muted.small", {}, "Checking what this alias would change…"));
    mine.pending = previews(alias).then((answer) => {
      mine.answer = answer;
      if (shown !== mine) return answer;
      const nothing = answer.matches_nothing;
      fill(preview, h(`div.alias-preview${nothing ? ".alias-warning" : ""}`, { testid: nothing ? "alias-warning" : "alias-preview" },
        h("p", {}, answer.message),
        answer.replaces ? h("p.small", {}, `It replaces the alias to ${answer.replaces}.`) : null));
      button.textContent = nothing ? "Add anyway" : "Add alias";
      return answer;
    }).catch(() => {
      if (shown === mine) {
        shown = null;
        fill(preview, h("p.muted.small", {}, "What this alias would change could not be checked."));
      }
      return null;
    });
    return mine.pending;
  };

  control.addEventListener("change", () => {
    touched = true;
    warned = null;
    showPreview(control.value.trim());
  });

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const chosen = control.value.trim();
    if (!chosen) {
      inform(fromReceipts ? "Choose the cardholder this name belongs to." : "Type the name the expense reports use for this cardholder.");
      control.focus();
      return;
    }
    const alias = aliasOf(chosen);
    button.disabled = true;
    control.disabled = true;
    // The preview first: shown before anything is saved; an alias that matches nothing waits for a second click.
    const seen = shown && shown.key === keyOf(alias);
    const answer = await showPreview(chosen);
    if (!seen && answer && !answer.matches_nothing && !touched) {
      // Nothing was chosen by hand: the clerk reads the preview, then adds.
      button.disabled = false;
      control.disabled = false;
      touched = true;
      return;
    }
    if (answer && answer.matches_nothing && warned !== keyOf(alias)) {
      warned = keyOf(alias);
      button.disabled = false;
      control.disabled = false;
      inform("This alias would match nothing in this session. Check the cardholder; choose Add anyway to keep it.");
      return;
    }
    const saved = await attempt(() => api("POST", "/api/aliases", alias));
    if (saved && sessionId) {
      lastSaved.set(sessionId, {
        name: saved.name, cardholder: saved.cardholder, replaces: answer?.replaces || null, message: answer?.message || "",
      });
    }
    if (saved && await reconcile()) {
      inform(`Alias saved: “${alias.name}” is ${alias.cardholder}. Reconciling again; the tables update when it is done.`);
      return;
    }
    button.disabled = false;
    control.disabled = false;
  });

  /** The candidates arrived: rank the choices, choose the best for the clerk when it is clearly good. */
  const ranked = (found) => {
    if (!found || !found.candidates.length) return;
    const top = found.candidates[0];
    if (fromReceipts) {
      const current = control.value;
      const order = found.candidates.map((c) => c.cardholder);
      const rest = cardholders.filter((c) => !order.includes(c));
      fill(control, h("option", { value: "" }, "Choose a cardholder…"),
        found.candidates.map((c) => h("option", { value: c.cardholder }, candidateLabel(c, true))),
        rest.map((c) => h("option", { value: c }, c)));
      control.value = touched || current ? current : "";
      if (!touched && strong(top)) control.value = top.cardholder;
    } else if (!touched && strong(top)) {
      control.value = top.name;
    }
    const best = found.candidates.filter(strong).slice(0, 3);
    fill(hint, best.length
      ? `Most likely: ${best.map((c) => `${fromReceipts ? c.cardholder : c.name} (${c.expenses ? `${c.expenses} of ${found.expenses} ${found.expenses === 1 ? "expense fits" : "expenses fit"}` : `names ${Math.round(c.name_similarity)}% alike`})`).join(", ")}.`
      : "No cardholder stands out: none has transactions these expenses fit, and no name is close. Check before adding an alias.");
    if (!touched && strong(top)) showPreview(control.value.trim());
  };

  const element = h("li.unresolved-row", { testid: "unresolved-row", dataset: { name: entry.name, normalized: entry.normalized, side: entry.side } },
    h("div.unresolved-name", {},
      h("strong", {}, entry.name),
      h("span.muted.small", {}, fromReceipts ? "Name on the expense reports; matches no cardholder" : "Cardholder on the statement; no expenses under this name")),
    form);
  return { entry, element, ranked };
}
