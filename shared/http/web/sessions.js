// The list of sessions: newest first, a page at a time ("Show older sessions"), filter by status
// and name among those shown, rename in place, delete after a confirm step (a dialog naming the session,
// so the question never pushes the name out of view, whatever the width).

import { api, seg } from "./api.js";
import { SESSION_STATUS_LABELS, dateTime, fill, h, sessionBadge } from "./format.js";
import { attempt, inform } from "./ui.js";

const REFRESH_MS = 5000;
const filters = { status: "", text: "" }; // kept while the page is open

/** The name a session shows: its own, or a stand-in for sessions made without one. */
export function sessionName(session) {
  return session.name?.trim() || `Session of ${dateTime(session.created)}`;
}

/** Transactions not Complete, from a session's summary; null before it has one. */
export function exceptionCount(summary) {
  if (!summary) return null;
  return Math.max(0, summary.transactions - (summary.statuses?.Complete || 0));
}

export function renderSessionList(main, view) {
  let sessions = [];
  let next = null; // the token of the page after the ones shown; null: nothing older
  let more = false; // older pages were asked for: a refresh keeps them
  let editing = null; // id of the row being renamed or deleted: no refresh then
  const body = h("tbody");
  const empty = h("p.empty.muted", {}, "Loading sessions…");
  let wrap = null; // the table's scrolling wrapper, hidden with it
  const statusSelect = h(
    "select",
    { id: "status-filter", testid: "status-filter" },
    h("option", { value: "" }, "All statuses"),
    Object.entries(SESSION_STATUS_LABELS).map(([value, label]) => h("option", { value, selected: filters.status === value }, label)),
  );
  const textInput = h("input", {
    id: "text-filter", type: "search", testid: "text-filter", value: filters.text, autocomplete: "off", placeholder: "Part of a name",
  });
  const table = h(
    "table.data-table.sessions-table.cards",
    { testid: "sessions-table" },
    h("caption.visually-hidden", {}, "Sessions, newest first"),
    h("thead", {}, h("tr", {},
      h("th", { scope: "col" }, "Name"),
      h("th", { scope: "col" }, "Created"),
      h("th", { scope: "col" }, "Status"),
      h("th.num", { scope: "col" }, "Transactions"),
      h("th.num", { scope: "col" }, "Expenses"),
      h("th.num", { scope: "col" }, "Exceptions"),
      h("th", { scope: "col" }, h("span.visually-hidden", {}, "Actions")),
    )),
    body,
  );

  const render = () => {
    const text = filters.text.trim().toLowerCase();
    const shown = sessions.filter((s) => (!filters.status || s.status === filters.status)
      && (!text || sessionName(s).toLowerCase().includes(text)));
    fill(body, shown.map((s) => row(s)));
    wrap.hidden = shown.length === 0;
    empty.hidden = shown.length > 0;
    empty.textContent = sessions.length ? "No sessions match these filters." : "No sessions yet. Upload a statement above to start one.";
  };

  const olderButton = h("button.btn.btn-secondary", { type: "button", testid: "older-sessions", hidden: true }, "Show older sessions");
  const showOlder = () => { olderButton.hidden = !next; };

  // A refresh reads the newest page again; older pages already shown stay, each session once.
  const load = async () => {
    const answer = await attempt(() => api("GET", "/api/sessions"));
    if (!answer || !view.alive) return;
    const newest = answer.sessions || [];
    const seen = new Set(newest.map((s) => s.id));
    sessions = more ? [...newest, ...sessions.filter((s) => !seen.has(s.id))] : newest;
    if (!more) next = answer.next || null;
    showOlder();
    if (!editing) render();
  };

  olderButton.addEventListener("click", async () => {
    if (!next) return;
    olderButton.disabled = true;
    const answer = await attempt(() => api("GET", `/api/sessions?page=${encodeURIComponent(next)}`));
    olderButton.disabled = false;
    if (!answer || !view.alive) return;
    const seen = new Set(sessions.map((s) => s.id));
    const older = (answer.sessions || []).filter((s) => !seen.has(s.id));
    sessions = [...sessions, ...older];
    more = true;
    next = answer.next || null;
    showOlder();
    render();
    inform(older.length ? `${older.length} older sessions shown.` : "No older sessions.");
    if (!next) textInput.focus();
  });

  const row = (session) => {
    const tr = h("tr", { testid: "session-row", dataset: { id: session.id, status: session.status } });
    const nameCell = h("td.name-cell", { "data-label": "Name" });
    const actions = h("td.row-actions", { "data-label": "Actions" });
    const count = (n, label) => h("td.num", { "data-label": label }, n ?? "—");
    const showName = () => fill(nameCell, h("a", { href: `#/sessions/${encodeURIComponent(session.id)}` }, sessionName(session)));
    const showActions = () => fill(
      actions,
      h("button.btn-link", { type: "button", testid: "rename-button", onclick: startRename, "aria-label": `Rename ${sessionName(session)}` }, "Rename"),
      h("button.btn-link.danger", { type: "button", testid: "delete-button", onclick: askDelete, "aria-label": `Delete ${sessionName(session)}` }, "Delete"),
    );
    const done = () => { editing = null; showName(); showActions(); };

    function startRename() {
      editing = session.id;
      const input = h("input.rename-input", {
        type: "text", testid: "rename-input", value: session.name || "", maxlength: "120",
        "aria-label": "New name", autocomplete: "off",
      });
      const save = async () => {
        const name = input.value.trim();
        if (!name) {
          inform("Type a name first, or press Escape to keep the old one.");
          input.focus();
          return;
        }
        const updated = await attempt(() => api("PATCH", `/api/sessions/${seg(session.id)}`, { name }));
        if (!updated) { input.focus(); return; }
        session.name = updated.name ?? name;
        done();
        inform(`Renamed to “${sessionName(session)}”.`);
        nameCell.querySelector("a")?.focus();
      };
      const cancel = () => { done(); actions.querySelector("button")?.focus(); };
      input.addEventListener("keydown", (event) => {
        if (event.key === "Enter") { event.preventDefault(); save(); }
        if (event.key === "Escape") { event.preventDefault(); cancel(); }
      });
      fill(nameCell, h("div.inline-edit", {}, input));
      fill(
        actions,
        h("button.btn-link", { type: "button", onclick: save }, "Save"),
        h("button.btn-link", { type: "button", onclick: cancel }, "Cancel"),
      );
      input.focus();
      input.select();
    }

    // A modal dialog: the row and its table keep their width, and the question names the session.
    function askDelete() {
      editing = session.id;
      const name = sessionName(session);
      const dialog = h("dialog.confirm-dialog", { testid: "delete-dialog", "aria-labelledby": "delete-question" },
        h("p#delete-question.confirm-question", { testid: "delete-question" },
          "Delete ", h("strong.confirm-name", {}, `“${name}”`), " and its reports?"),
        h("p.muted.small", {}, "The files, the results and every report of this session are removed. This cannot be undone."),
        h("div.actions", {},
          h("button.btn.btn-danger", { type: "button", testid: "confirm-delete", onclick: () => remove(dialog) }, "Yes, delete"),
          h("button.btn.btn-secondary", { type: "button", testid: "cancel-delete", onclick: () => dialog.close() }, "Cancel")));
      dialog.addEventListener("close", () => {
        dialog.remove();
        if (editing !== session.id) return; // deleted
        done();
        actions.querySelector('[data-testid="delete-button"]')?.focus();
      });
      document.body.append(dialog);
      dialog.showModal();
      dialog.querySelector('[data-testid="cancel-delete"]').focus(); // the safe answer first
    }

    async function remove(dialog) {
      const answer = await attempt(() => api("DELETE", `/api/sessions/${seg(session.id)}`));
      if (!answer) { dialog.close(); return; }
      editing = null;
      dialog.close();
      editing = null;
      sessions = sessions.filter((s) => s !== session);
      render();
      inform(`Deleted “${sessionName(session)}”.`);
      textInput.focus();
    }

    showName();
    showActions();
    tr.append(
      nameCell,
      h("td.nowrap", { "data-label": "Created" }, dateTime(session.created)),
      h("td", { "data-label": "Status" }, sessionBadge(session.status)),
      count(session.summary?.transactions, "Transactions"),
      count(session.summary?.expenses, "Expenses"),
      count(exceptionCount(session.summary), "Exceptions"),
      actions,
    );
    return tr;
  };

  statusSelect.addEventListener("change", () => { filters.status = statusSelect.value; render(); });
  textInput.addEventListener("input", () => { filters.text = textInput.value; render(); });

  main.append(h(
    "section.card",
    { "aria-labelledby": "sessions-heading" },
    h("h2#sessions-heading", {}, "Sessions"),
    h(
      "div.filters",
      {},
      h("div.field", {}, h("label", { for: "status-filter" }, "Status"), statusSelect),
      h("div.field", {}, h("label", { for: "text-filter" }, "Name contains"), textInput),
    ),
    (wrap = h("div.table-wrap", { hidden: true, tabindex: "0" }, table)),
    empty,
    h("div.list-more", {}, olderButton),
  ));

  // While anything is still being read or reconciled, keep the list current.
  const tick = async () => {
    if (!view.alive) return;
    await load();
    if (!view.alive) return;
    if (sessions.some((s) => s.status === "open" || s.status === "processing")) setTimeout(tick, REFRESH_MS);
  };
  tick();
}
