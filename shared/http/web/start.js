// The start view: choose PDFs, check them, send them into a new session, then follow it.
// Below, the list of earlier sessions (sessions.js).

import { api, getLimits, seg } from "./api.js";
import { fill, h, megabytes, today } from "./format.js";
import { READING_MESSAGE } from "./session.js";
import { renderSessionList } from "./sessions.js";
import { attempt, clearMessage, flash, say, setTitle } from "./ui.js";
import { FileUpload, isDuplicate, refusal } from "./upload.js";

// Kept across re-renders (the key form re-renders the view): the files chosen and their session, and
// whether the person chose to go on with one file only.
const state = { items: [], sessionId: null, busy: false, name: "", oneFileOk: false };

/** One chosen file: its checks, its upload and its row. */
class Item {
  constructor(file) {
    this.file = file;
    this.phase = "checking"; // checking | refused | ready | uploading | uploaded | failed | duplicate
    this.message = "";
    this.detail = ""; // the technical side of `message`, one click away
    this.sent = 0;
    this.upload = null;
    this.twin = null; // {id, name} of the session already holding this file (phase "duplicate")
    this.allowDuplicate = false; // the person chose "Upload anyway"
  }
}

export function renderStart(main, view) {
  setTitle("New reconciliation");
  const list = h("ul.file-list", { "aria-label": "Chosen files" });
  const startButton = h("button.btn.btn-primary", { type: "button", testid: "start-upload", disabled: true }, "Upload and reconcile");
  const clearButton = h("button.btn.btn-secondary", { type: "button" }, "Clear list");
  const limitNote = h("span", {}, "");
  const input = h("input.visually-hidden", {
    id: "file-input", type: "file", multiple: true, accept: "application/pdf,.pdf", testid: "file-input",
  });
  const nameInput = h("input", {
    id: "session-name", type: "text", testid: "session-name-input", autocomplete: "off",
    placeholder: defaultName(), value: state.name, maxlength: "120",
  });
  const drop = h(
    "div.drop-zone",
    { testid: "drop-zone", role: "button", tabindex: "0", "aria-describedby": "drop-help" },
    h("span.drop-title", {}, "Drop PDF files here"),
    h("span#drop-help.muted", {}, "or click here (or press Enter) to choose files"),
  );

  const oneFile = h("div", { testid: "one-file-warning", hidden: true });
  const render = () => renderItems(list, startButton, clearButton, view, render);

  const add = async (files) => {
    clearMessage();
    oneFile.hidden = true;
    state.oneFileOk = false;
    const limits = await attempt(getLimits);
    if (!limits) return;
    for (const file of files) {
      const item = new Item(file);
      if (state.items.some((other) => other.file.name === file.name && other.phase !== "refused")) {
        item.phase = "refused";
        item.message = "A file with this name is already in the list.";
      }
      state.items.push(item);
      if (item.phase === "checking") {
        refusal(file, limits).then((why) => {
          item.phase = why ? "refused" : "ready";
          item.message = why || "";
          render();
        });
      }
    }
    render();
  };

  input.addEventListener("change", () => {
    add([...input.files]);
    input.value = ""; // choosing the same file again after removing it must fire "change" again
  });
  drop.addEventListener("click", () => input.click());
  drop.addEventListener("keydown", (event) => {
    if (event.key === "Enter" || event.key === " ") {
      event.preventDefault();
      input.click();
    }
  });
  drop.addEventListener("dragover", (event) => {
    event.preventDefault();
    drop.classList.add("drag-over");
  });
  drop.addEventListener("dragleave", () => drop.classList.remove("drag-over"));
  drop.addEventListener("drop", (event) => {
    event.preventDefault();
    drop.classList.remove("drag-over");
    add([...(event.dataTransfer?.files || [])]);
  });
  nameInput.addEventListener("input", () => { state.name = nameInput.value; });
  clearButton.addEventListener("click", () => {
    state.items = [];
    state.sessionId = null;
    state.oneFileOk = false;
    oneFile.hidden = true;
    clearMessage();
    render();
  });
  startButton.addEventListener("click", () => {
    // One file alone is rarely meant: say what it leads to, and let the person go on or add the other.
    const accepted = state.items.filter((i) => i.phase !== "refused");
    if (!state.sessionId && accepted.length === 1 && !state.oneFileOk) {
      fill(oneFile, h("div.alert.alert-info", { role: "alert" },
        h("span.alert-icon", { "aria-hidden": "true" }, "!"),
        h("div", {},
          h("p", {}, "Only one file is chosen. A reconciliation needs both the card statement and the receipt "
            + "images report: with the statement alone every transaction will be Missing Both; with the receipts "
            + "report alone there are no transactions to match."),
          h("div.actions", {},
            h("button.btn.btn-secondary", { type: "button", testid: "one-file-add", onclick: () => {
              oneFile.hidden = true;
              drop.focus();
            } }, "Add the other file"),
            h("button.btn.btn-primary", { type: "button", testid: "one-file-proceed", onclick: () => {
              state.oneFileOk = true;
              oneFile.hidden = true;
              uploadAll(view, render, startButton);
            } }, "Upload this file only")))));
      oneFile.hidden = false;
      oneFile.querySelector('[data-testid="one-file-add"]')?.focus();
      return;
    }
    uploadAll(view, render, startButton);
  });

  main.append(
    h("h1", {}, "Reconcile a card statement"),
    h(
      "section.card",
      { "aria-labelledby": "new-heading" },
      h("h2#new-heading", {}, "New reconciliation"),
      h("p.muted", {}, "Add the card statement and the receipt images report, both as PDF files. ", limitNote),
      h("div.field", {}, h("label", { for: "session-name" }, "Name ", h("span.muted", {}, "(optional)")), nameInput),
      drop,
      h("div.picker", {}, input, h("label.btn.btn-secondary", { for: "file-input" }, "Choose PDF files")),
      list,
      oneFile,
      h("div.actions", {}, startButton, clearButton),
    ),
  );
  renderSessionList(main, view);
  render();
  getLimits()
    .then((limits) => { limitNote.textContent = `Each file may be up to ${megabytes(limits.max_file_bytes)}.`; })
    .catch(() => {}); // shown when a file is chosen
}

// A PDF dropped beside the drop zone must not replace the page with the PDF.
for (const type of ["dragover", "drop"]) window.addEventListener(type, (event) => event.preventDefault());

function defaultName() {
  return `Statement and receipts, ${today()}`;
}

const PHASE_TEXT = {
  checking: "Checking…",
  ready: "Ready to upload",
  uploading: "Uploading…",
  uploaded: "Uploaded",
};

function renderItems(list, startButton, clearButton, view, render) {
  if (!view.alive) return;
  const rows = state.items.map((item) => itemRow(item, render));
  fill(list, rows);
  list.hidden = rows.length === 0;
  const accepted = state.items.filter((i) => i.phase !== "refused");
  const toSend = accepted.some((i) => i.phase === "ready" || i.phase === "failed");
  // (a file refused as a duplicate waits for the person: open that session, upload anyway or remove it)
  // "Continue" after every file went up but the last step did not: all uploaded, nothing to send.
  const toFinish = state.sessionId && accepted.length > 0 && accepted.every((i) => i.phase === "uploaded");
  const checking = accepted.some((i) => i.phase === "checking");
  startButton.disabled = state.busy || checking || !(toSend || toFinish);
  startButton.textContent = state.sessionId ? "Continue" : "Upload and reconcile";
  clearButton.disabled = state.busy || state.items.length === 0;
}

function itemRow(item, render) {
  const row = h("li.file-row", { testid: "file-row", dataset: { name: item.file.name, phase: item.phase } });
  const status = item.phase === "duplicate" ? duplicateOffer(item, render)
    : item.phase === "refused" || item.phase === "failed"
    ? h("div.file-problem", {}, h("p.file-error", { testid: "file-error" }, item.message),
      item.detail ? h("details.tech-detail", { testid: "file-error-detail" },
        h("summary", {}, "Technical detail"), h("p.tech-text", {}, item.detail)) : null)
    : h("p.file-state.muted", {}, item.phase === "uploading"
      ? `Uploading… ${megabytes(item.sent)} of ${megabytes(item.file.size)}`
      : PHASE_TEXT[item.phase]);
  const progress = item.phase === "refused" ? null : h("progress", {
    testid: "file-progress", max: String(item.file.size || 1), value: String(item.sent),
    "aria-label": `Upload of ${item.file.name}`,
  });
  const actions = h("div.file-actions");
  if (item.phase === "failed") {
    actions.append(h("button.btn.btn-secondary.btn-small", {
      type: "button", testid: "resume-upload",
      onclick: () => resume(item, render),
    }, item.upload && !item.upload.direct ? "Resume" : "Try again"));
  }
  if (!state.busy && item.phase !== "uploaded") {
    actions.append(h("button.btn-link", {
      type: "button", "aria-label": `Remove ${item.file.name}`,
      onclick: () => removeItem(item, render),
    }, "Remove"));
  }
  fill(row,
    h("div.file-main", {}, h("span.file-name", {}, item.file.name), h("span.file-size.muted", {}, megabytes(item.file.size))),
    status,
    progress,
    actions,
  );
  item.row = row;
  return row;
}

/** The file is already in another of the person's sessions: open that one, or upload it anyway. */
function duplicateOffer(item, render) {
  const name = item.twin.name || "another session";
  return h("div.duplicate-offer", { testid: "duplicate-offer" },
    h("p", {}, `This very file is already in your session “${name}”.`),
    h("div.actions", {},
      h("a.btn.btn-secondary.btn-small", { href: `#/sessions/${encodeURIComponent(item.twin.id)}`, testid: "open-twin" },
        "Open that session"),
      h("button.btn.btn-primary.btn-small", { type: "button", testid: "upload-anyway", onclick: () => {
        item.allowDuplicate = true;
        item.phase = "ready";
        resume(item, render);
      } }, "Upload anyway")));
}

/** Update one row's progress without rebuilding the list (keeps focus where it is). */
function showProgress(item) {
  const bar = item.row?.querySelector("progress");
  if (bar) bar.value = item.sent;
  const text = item.row?.querySelector(".file-state");
  if (text) text.textContent = `Uploading… ${megabytes(item.sent)} of ${megabytes(item.file.size)}`;
}

async function sendOne(item, render) {
  item.phase = "uploading";
  item.message = "";
  item.detail = "";
  render();
  try {
    if (!item.upload) {
      const limits = await getLimits();
      item.upload = new FileUpload(state.sessionId, item.file, limits, (sent) => { item.sent = sent; showProgress(item); },
        { allowDuplicate: item.allowDuplicate });
      await item.upload.start();
    } else {
      await item.upload.resume();
    }
    item.phase = "uploaded";
    item.sent = item.file.size;
  } catch (error) {
    if (isDuplicate(error)) {
      item.phase = "duplicate";
      item.twin = error.session;
      item.upload = null; // nothing of it was stored: "Upload anyway" starts over
      item.sent = 0;
    } else {
      item.phase = "failed";
      item.message = error.message || "The upload failed. Try again.";
      item.detail = error.detail || (error.status ? `HTTP ${error.status} ${error.code || ""}` : "");
      if (item.upload?.direct) item.upload = null; // the direct path starts over
    }
  }
  render();
}

/** Drop a file from the list; one the server already knows (an unfinished upload) is taken back there too. */
async function removeItem(item, render) {
  const record = item.upload?.record;
  if (record && state.sessionId) {
    const path = `/api/sessions/${seg(state.sessionId)}/files/${seg(record.id)}`;
    if (!(await attempt(() => api("DELETE", path)))) return;
  }
  state.items = state.items.filter((i) => i !== item);
  render();
}

async function ensureSession() {
  if (state.sessionId) return state.sessionId;
  const name = state.name.trim() || defaultName();
  const session = await api("POST", "/api/sessions", { name });
  state.sessionId = session.id;
  return session.id;
}

async function uploadAll(view, render, startButton) {
  if (state.busy) return;
  clearMessage();
  state.busy = true;
  render();
  const id = await attempt(ensureSession);
  if (!id) {
    state.busy = false;
    render();
    return;
  }
  const waiting = state.items.filter((i) => i.phase === "ready" || i.phase === "failed");
  await Promise.all(waiting.map((item) => sendOne(item, render)));
  state.busy = false;
  await finishIfReady(render);
  if (view.alive) startButton.focus();
}

async function resume(item, render) {
  if (state.busy) return;
  state.busy = true;
  clearMessage();
  await sendOne(item, render);
  state.busy = false;
  await finishIfReady(render);
}

/** Every accepted file is stored: ask for processing and go to the session. */
async function finishIfReady(render) {
  const accepted = state.items.filter((i) => i.phase !== "refused");
  const failed = accepted.filter((i) => i.phase === "failed");
  render();
  if (failed.length) {
    say(failed.length === 1
      ? `“${failed[0].file.name}” could not be uploaded. Try it again, or remove it and continue.`
      : `${failed.length} files could not be uploaded. Try them again, or remove them and continue.`);
    return;
  }
  if (!accepted.length || accepted.some((i) => i.phase !== "uploaded")) return;
  const id = state.sessionId;
  const processed = await attempt(() => api("POST", `/api/sessions/${seg(id)}/process`));
  if (!processed) return;
  state.items = [];
  state.sessionId = null;
  state.name = "";
  flash(READING_MESSAGE, "info", "progress");
  location.hash = `#/sessions/${encodeURIComponent(id)}`;
}
