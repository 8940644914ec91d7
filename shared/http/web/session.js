// One session: live progress (stepper, files), then summary, downloads and results.

import { api, getLimits, seg } from "./api.js";
import {
  FILE_STATUS_LABELS, KIND_LABELS, REPORT_LABELS, REPORT_ORDER, SESSION_STATUS_LABELS, badge, dateTime, fill, h,
  megabytes, money, problemSentence, sentence, technicalDetail,
} from "./format.js";
import { renderResults } from "./results.js";
import { exceptionCount, sessionName } from "./sessions.js";
import { attempt, clearMessage, downloadLink, inform, say, setTitle, shownTag } from "./ui.js";
import { FileUpload, isDuplicate, refusal } from "./upload.js";

const POLL_MS = 1500;
const STATE_TEXT = { pending: "Not started yet", active: "Under way", done: "Done", failed: "Stopped" };
const STEPS = [["upload", "Upload the files"], ["extraction", "Read the files"], ["reconciliation", "Match receipts"]];
/** Said when the files are up and the page takes over; the session page keeps it true (`progressBanner`). */
export const READING_MESSAGE = "Files uploaded. Reading them now; this page updates by itself.";
const PROGRESS = "progress"; // the tag of the message-area sentences that follow the session's state
// The kinds of change between two reconciliations of a session, most urgent first (GET .../changes).
const CHANGE_KINDS = [
  ["worse", "Got worse"],
  ["removed", "No longer on the statement"],
  ["still_missing", "Still missing"],
  ["changed", "Missing something else"],
  ["improved", "Less missing"],
  ["added", "New on the statement"],
  ["became_complete", "Became Complete"],
];
const TIMELINE_STEPS = {
  "session opened": "Session opened",
  upload: "Upload",
  extraction: "Reading the file",
  "processing asked for": "Processing asked for",
  reconciliation: "Matching receipts to transactions",
  reports: "Writing the reports",
};

/** Each phase's state, from the session and its files. */
export function phases(session) {
  const files = session.files || [];
  const failed = session.status === "failed";
  const completed = session.status === "completed";
  const awaiting = files.some((f) => f.status === "awaiting_upload");
  const allTerminal = files.length > 0 && files.every((f) => f.status === "extracted" || f.status === "failed");
  const anyFileFailed = files.some((f) => f.status === "failed");

  const upload = completed || (files.length && !awaiting) ? "done" : failed ? "failed" : "active";
  let extraction = "pending";
  if (completed) extraction = "done";
  else if (allTerminal && files.every((f) => f.status === "failed")) extraction = "failed";
  else if (failed && (anyFileFailed || !allTerminal)) extraction = "failed"; // a file is why it failed
  else if (allTerminal) extraction = "done";
  else if (files.some((f) => f.status !== "awaiting_upload")) extraction = "active";
  let reconciliation = "pending";
  if (completed) reconciliation = "done";
  else if (failed && extraction === "done") reconciliation = "failed";
  else if (session.status === "processing" && extraction === "done") reconciliation = "active";
  return { upload, extraction, reconciliation };
}

export function renderSession(main, id, view) {
  setTitle("Session");
  const base = `/api/sessions/${seg(id)}`;
  const heading = h("h1.session-title", {}, "Session");
  const statusBadge = h("span.badge", { testid: "session-status", hidden: true });
  const meta = h("p.muted.session-meta");
  const stepper = h("ol.stepper", { "aria-label": "Progress" });
  const overall = h("progress.overall", { max: "1", value: "0", "aria-label": "Overall progress" });
  const problem = h("div.session-error", { hidden: true, testid: "session-problem" });
  const warnings = h("div", { testid: "session-warnings", hidden: true });
  const newer = h("section.card", { hidden: true, testid: "newer-receipts", "aria-labelledby": "newer-heading" });
  const changes = h("section.card", { hidden: true, testid: "changes", "aria-labelledby": "changes-heading" });
  const finishBox = h("div.finish", { hidden: true });
  const files = h("tbody");
  const summary = h("section.summary-section", { hidden: true, "aria-labelledby": "summary-heading" });
  const downloads = h("section.card", { hidden: true, "aria-labelledby": "downloads-heading" });
  const timeline = h("section.card", { hidden: true, testid: "timeline", "aria-labelledby": "timeline-heading" });
  const results = h("div.results");
  let lastCompleted = null; // the completion time whose results are on screen
  let timer = null;
  let sawWork = false; // this page watched the session work (so its completion is news)

  main.append(
    h("p.back", {}, h("a", { href: "#/" }, "← All sessions")),
    h("div.session-head", {}, heading, statusBadge),
    meta,
    h("section.card", { "aria-labelledby": "progress-heading" },
      h("h2#progress-heading", {}, "Progress"),
      stepper,
      overall,
      problem,
      warnings,
      finishBox,
      h("h3", {}, "Files"),
      h("div.table-wrap", { tabindex: "0" }, h(
        "table.data-table.files-table.cards",
        {},
        h("thead", {}, h("tr", {}, FILE_COLUMNS.map((t) => h("th", { scope: "col" }, t)))),
        files,
      ))),
    summary,
    changes,
    newer,
    downloads,
    timeline,
    results,
  );

  const show = (session) => {
    const name = sessionName(session);
    heading.textContent = name;
    setTitle(`${name} (${SESSION_STATUS_LABELS[session.status] || session.status})`);
    statusBadge.textContent = SESSION_STATUS_LABELS[session.status] || session.status;
    statusBadge.dataset.status = session.status;
    statusBadge.hidden = false;
    statusBadge.className = `badge badge-${session.status}`;
    meta.textContent = [
      `Created ${dateTime(session.created)}`,
      session.completed ? `completed ${dateTime(session.completed)}` : "",
    ].filter(Boolean).join(" · ");
    const state = phases(session);
    fill(stepper, STEPS.map(
      ([key, label], i) => h(
        `li.step.step-${state[key]}`,
        { testid: `phase-${key}`, dataset: { state: state[key] }, "aria-current": state[key] === "active" ? "step" : null },
        h("span.step-mark", { "aria-hidden": "true" }, state[key] === "done" ? "✓" : state[key] === "failed" ? "!" : String(i + 1)),
        h("span.step-text", {}, h("span.step-name", {}, label), h("span.step-state", {}, STATE_TEXT[state[key]])),
      ),
    ));
    overall.value = session.progress ?? 0;
    overall.hidden = session.status === "completed" || session.status === "failed";
    problem.hidden = !session.error && !session.problem;
    fill(problem, problem.hidden ? null : [
      h("p", {}, session.problem ? `This session stopped. ${problemSentence(session)}`
        : sentence(`This session stopped: ${session.error}`)),
      technicalDetail(session, { testid: "session-problem-detail" }),
    ]);
    showWarnings(session);
    showFinish(session);
    showNewer(session);
    fill(files, (session.files || []).map(fileRow));
    if (!session.files?.length) files.append(h("tr", {}, h("td.muted.empty-cell", { colspan: "6" }, "No files yet.")));
    showSummary(session);
    showDownloads(session);
  };

  // Said before processing (only one kind of file is in) and after (no receipts report was uploaded).
  const showWarnings = (session) => {
    const list = session.warnings || [];
    warnings.hidden = !list.length;
    fill(warnings, list.length ? h("div.alert.alert-error", { role: "status" },
      h("span.alert-icon", { "aria-hidden": "true" }, "!"),
      h("div", {}, list.map((text) => h("p", { testid: "session-warning" }, text)))) : null);
  };

  // A completed session takes a newer receipts report: it is reconciled again, then says what changed.
  let newerUpload = null; // the upload under way (or refused as a duplicate), if any
  const newerStatus = h("div.newer-status", { testid: "newer-status", "aria-live": "polite" });
  const newerInput = h("input.visually-hidden", {
    id: "newer-input", type: "file", accept: "application/pdf,.pdf", testid: "newer-receipts-input",
  });
  newerInput.addEventListener("change", () => {
    const file = newerInput.files[0];
    newerInput.value = "";
    if (file) sendNewer(file, false);
  });

  const showNewer = (session) => {
    const ready = session.status === "completed";
    newer.hidden = !ready && !newerUpload;
    if (newer.childElementCount) return;
    fill(newer,
      h("h2#newer-heading", {}, "Upload a newer receipts report"),
      h("p.muted", {}, "Got more receipts since? Upload the newer Receipt Images Report: the session is "
        + "reconciled again with it, and this page then shows what changed."),
      h("div.picker", {}, newerInput, h("label.btn.btn-secondary", { for: "newer-input" }, "Choose the newer receipts report")),
      newerStatus);
  };

  async function sendNewer(file, allowDuplicate) {
    clearMessage();
    const limits = await attempt(getLimits);
    if (!limits) return;
    const why = await refusal(file, limits);
    if (why) {
      fill(newerStatus, h("p.file-error", { testid: "file-error" }, why));
      return;
    }
    const progress = h("progress", { max: String(file.size || 1), value: "0", "aria-label": `Upload of ${file.name}` });
    fill(newerStatus, h("p.muted", {}, `Uploading ${file.name} (${megabytes(file.size)})…`), progress);
    newerUpload = new FileUpload(id, file, limits, (sent) => { progress.value = sent; }, { allowDuplicate });
    try {
      await newerUpload.start();
    } catch (error) {
      if (isDuplicate(error)) {
        offerTwin(file, error.session);
      } else {
        newerUpload = null;
        fill(newerStatus, h("p.file-error", { testid: "file-error" }, error.message || "The upload failed. Try again."));
      }
      return;
    }
    newerUpload = null;
    fill(newerStatus, h("p.muted", {}, `${file.name} is uploaded. Reading it and reconciling again…`));
    lastCompleted = ""; // the next completion brings new results
    results.classList.add("stale");
    poll();
  }

  /** The file is already in another session: open that one, or upload it here anyway. */
  function offerTwin(file, twin) {
    const name = twin.name || "another session";
    fill(newerStatus, h("div.alert.alert-info", { testid: "duplicate-offer", role: "status" },
      h("span.alert-icon", { "aria-hidden": "true" }, "i"),
      h("div", {},
        h("p", {}, `This very file is already in your session “${name}”.`),
        h("div.actions", {},
          h("a.btn.btn-secondary", { href: `#/sessions/${encodeURIComponent(twin.id)}`, testid: "open-twin" }, "Open that session"),
          h("button.btn.btn-primary", { type: "button", testid: "upload-anyway", onclick: () => sendNewer(file, true) },
            "Upload anyway")))));
    newerUpload = null;
  }

  /** What the last run changed against the one before: counts and dollars, then the transactions. */
  async function showChanges(session) {
    changes.hidden = !session.summary?.changes;
    if (changes.hidden) return;
    let answer;
    try {
      answer = await api("GET", `${base}/changes`);
    } catch {
      changes.hidden = true;
      return;
    }
    if (!view.alive) return;
    const tally = (kind) => answer.tallies[kind] || { count: 0, amount: "0" };
    const line = ([kind, label]) => h("li", { testid: `change-${kind}`, dataset: { count: String(tally(kind).count) } },
      h("strong", {}, String(tally(kind).count)), ` ${label.toLowerCase()} ($${money(tally(kind).amount)})`);
    const shown = CHANGE_KINDS.filter(([kind]) => tally(kind).count || ["became_complete", "worse", "still_missing"].includes(kind));
    const table = ([kind, label]) => {
      const rows = answer.transactions.filter((t) => t.kind === kind);
      if (!rows.length) return null;
      const body = h("div.table-wrap", { tabindex: "0" }, h("table.data-table.cards", { testid: `changes-${kind}` },
        h("thead", {}, h("tr", {}, ["Transaction", "Cardholder", "Merchant", "Amount", "Before", "After"]
          .map((t) => h("th", { scope: "col" }, t)))),
        h("tbody", {}, rows.map((t) => h("tr", { testid: "change-row", dataset: { number: t.transaction_number, kind } },
          h("th", { scope: "row", "data-label": "Transaction" }, t.transaction_number),
          h("td", { "data-label": "Cardholder" }, t.cardholder || ""),
          h("td", { "data-label": "Merchant" }, t.merchant),
          h("td.num", { "data-label": "Amount" }, money(t.amount)),
          h("td", { "data-label": "Before" }, t.before ? badge(t.before) : "—"),
          h("td", { "data-label": "After" }, t.after ? badge(t.after) : "—"))))));
      // The long "still missing" list is folded away; what moved is open.
      return kind === "still_missing"
        ? h("details", {}, h("summary", {}, `${label} (${rows.length})`), body)
        : h("div", {}, h("h3", {}, `${label} (${rows.length})`), body);
    };
    const receipts = answer.receipts_before !== answer.receipts_after
      ? ` The receipts report was ${answer.receipts_before || "none"}; now it is ${answer.receipts_after || "none"}.` : "";
    fill(changes,
      h("h2#changes-heading", {}, "What changed"),
      h("p.muted", {}, `Compared with the reconciliation before, ${dateTime(answer.compared)}.${receipts}`),
      h("ul.change-counts", { testid: "change-counts" }, shown.map(line)),
      CHANGE_KINDS.map(table));
  }

  // A session left open (its page was closed mid-upload) can still be finished from here.
  const showFinish = (session) => {
    const ready = session.status === "open" && session.files?.length
      && session.files.every((f) => f.status !== "awaiting_upload");
    finishBox.hidden = !ready;
    if (!ready || finishBox.childElementCount) return;
    fill(finishBox,
      h("p", {}, "The files are uploaded, but reconciliation was not started."),
      h("button.btn.btn-primary", { type: "button", onclick: async () => {
        const started = await attempt(() => api("POST", `${base}/process`));
        if (started) { finishBox.replaceChildren(); poll(); }
      } }, "Start reconciliation"));
  };

  const showSummary = (session) => {
    const s = session.summary;
    summary.hidden = !s || session.status !== "completed";
    if (summary.hidden) return;
    const statuses = s.statuses || {};
    const card = (label, value, kind = "") => h(`div.stat${kind ? `.stat-${kind}` : ""}`, {},
      h("span.stat-value", {}, String(value ?? 0)), h("span.stat-label", {}, label));
    // A file that could not be read was left out: say so above everything, never a clean run.
    const notRead = s.files_not_read || [];
    const banner = notRead.length ? h("div.alert.alert-error", { role: "alert", testid: "files-not-read" },
      h("span.alert-icon", { "aria-hidden": "true" }, "!"),
      h("div", {},
        h("p", {}, h("strong", {}, notRead.length === 1
          ? "One file could not be read and is left out of these reports:"
          : `${notRead.length} files could not be read and are left out of these reports:`)),
        h("ul.not-read", {}, notRead.map((line) => h("li", {}, line))),
        h("p", {}, "Upload a readable copy to this session to reconcile it again."))) : null;
    fill(summary,
      h("h2#summary-heading.visually-hidden", {}, "Summary"),
      banner,
      h("div.stats", { testid: "summary" },
        card("Transactions", s.transactions),
        card("Complete", statuses.Complete, "complete"),
        card("Missing Receipt", statuses["Missing Receipt"], "missing-receipt"),
        card("Missing Coding", statuses["Missing Coding"], "missing-coding"),
        card("Missing Both", statuses["Missing Both"], "missing-both"),
        card("Exceptions", exceptionCount(s)),
        card("Expenses", s.expenses),
        card("Unmatched expenses", s.unmatched_expenses),
        card("Unresolved names", s.unresolved_names),
        card("Checks to look at", s.checks),
      ));
  };

  // What clerks use first, as buttons; the full data for other systems last, as a plain link.
  const showDownloads = (session) => {
    downloads.hidden = session.status !== "completed" || !session.reports?.length;
    if (downloads.hidden) return;
    const rank = (name) => (REPORT_ORDER.includes(name) ? REPORT_ORDER.indexOf(name) : REPORT_ORDER.length - 1);
    const names = [...session.reports].sort((a, b) => rank(a) - rank(b));
    const link = (name, cls) => downloadLink(`${base}/reports/${seg(name)}`, REPORT_LABELS[name] || name, name,
      { testid: `download-${name}`, class: cls });
    fill(downloads,
      h("h2#downloads-heading", {}, "Downloads"),
      h("div.downloads", { testid: "downloads" },
        names.filter((n) => n !== "reconciliation").map((n) => link(n, "btn btn-secondary")),
        h("a.btn.btn-secondary", { href: `#/sessions/${seg(id)}/print`, testid: "print-link" }, "Print exceptions")),
      names.includes("reconciliation")
        ? h("p.downloads-more.small", {}, link("reconciliation", "download-quiet"))
        : null);
  };

  const poll = async () => {
    clearTimeout(timer);
    if (!view.alive) return;
    let session;
    try {
      session = await api("GET", base);
    } catch (error) {
      if (!view.alive) return;
      if (error.status === 404) {
        setTitle("Session not found");
        fill(main,
          h("p.back", {}, h("a", { href: "#/" }, "← All sessions")),
          h("h1", {}, "Session not found"),
          h("p", {}, "There is no session at this address. It may have been deleted; the list of sessions shows the ones there are."));
        say("This session does not exist any more. It may have been deleted.");
        return;
      }
      say(error);
      // A blip: keep following. A refusal (no key, no session): stop.
      if (error.status === 0 || error.status >= 500) timer = setTimeout(poll, POLL_MS * 4);
      return;
    }
    if (!view.alive) return;
    show(session);
    progressBanner(session);
    if (session.status === "open" || session.status === "processing") {
      sawWork = true;
      timer = setTimeout(poll, POLL_MS);
      results.classList.toggle("stale", lastCompleted !== null);
    } else if (session.status === "completed" && session.completed !== lastCompleted) {
      const first = lastCompleted === null;
      lastCompleted = session.completed;
      if (!first) newerStatus.replaceChildren(); // "reconciling again…" is over
      showTimeline();
      showChanges(session);
      await renderResults(results, session, view, { reconcile });
      results.classList.remove("stale");
      results.inert = false;
      if (!first) inform("The reconciliation is up to date: the tables below show the new results.");
      else if (sawWork || shownTag() === PROGRESS) readyBanner(session);
    } else if (session.status === "failed") {
      if (timeline.hidden) showTimeline();
      results.classList.remove("stale");
      results.inert = false;
    }
  };

  /** Keep the message area true to the files while the page follows the work: a file that could not be
   * read is named as soon as it is known, and "reading them now" is never left standing after that. */
  let lastBanner = "";
  function progressBanner(session) {
    if (!sawWork && shownTag() !== PROGRESS) return; // the person opened a session: nothing said about it
    if (lastCompleted !== null) return; // reconciling again (an alias, newer receipts) says its own words
    const files = session.files || [];
    const failed = files.filter((f) => f.status === "failed");
    const running = session.status === "open" || session.status === "processing";
    let text = "";
    let kind = "info";
    if (failed.length && (running || session.status === "failed")) {
      kind = "error";
      const one = failed[0];
      const named = failed.length === 1 ? `“${one.name}” could not be read. ${problemSentence(one)}`
        : `${failed.length} files could not be read: ${failed.map((f) => `“${f.name}”`).join(", ")}. See the Problem column below.`;
      text = running ? `${named} The other files are still being worked on.`
        : `${named} Start a new session with the card statement and the receipt images report.`;
    } else if (session.status === "failed") {
      kind = "error";
      text = session.problem ? `This session stopped. ${problemSentence(session)}` : sentence(`This session stopped: ${session.error || "see below"}`);
    } else if (session.status === "processing") {
      text = phases(session).extraction === "done"
        ? "The files are read. Matching receipts to transactions now; this page updates by itself."
        : READING_MESSAGE;
    } else {
      return; // completed (said by readyBanner) or open and waiting for the person
    }
    if (text === lastBanner) return;
    lastBanner = text;
    say(text, kind, PROGRESS);
  }

  /** The session this page followed is done: say so, and name any file left out. */
  function readyBanner(session) {
    const notRead = (session.files || []).filter((f) => f.status === "failed");
    if (notRead.length) {
      say(`The reconciliation is ready, but ${notRead.length === 1 ? `“${notRead[0].name}” could not be read and is`
        : `${notRead.length} files could not be read and are`} left out: the results and reports below do not include it.`,
      "error", PROGRESS);
    } else {
      say("The reconciliation is ready: the results and reports are below.", "info", PROGRESS);
    }
  }

  /** Where the finished session spent its time: each step, when it began (after the session was
   * opened) and how long it took. */
  async function showTimeline() {
    let answer;
    try {
      answer = await api("GET", `${base}/timeline`);
    } catch {
      return; // the timeline is extra: the session's results do not wait for it
    }
    if (!view.alive) return;
    const start = Date.parse(answer.entries[0]?.started);
    const seconds = (value) => (value == null ? "—" : `${value < 10 ? value.toFixed(1) : Math.round(value)} s`);
    fill(timeline,
      h("h2#timeline-heading", {}, "Timeline"),
      h("p.muted", {}, answer.seconds != null
        ? `From opening the session to its reports: ${seconds(answer.seconds)}.`
        : "Still under way."),
      h("div.table-wrap", { tabindex: "0" }, h("table.data-table.timeline-table.cards", {},
        h("thead", {}, h("tr", {}, ["Step", "File", "Began after", "Took"].map((t) => h("th", { scope: "col" }, t)))),
        h("tbody", {}, answer.entries.map((entry) => h("tr", { testid: "timeline-row", dataset: { step: entry.step } },
          h("th", { scope: "row", "data-label": "Step" }, TIMELINE_STEPS[entry.step] || entry.step),
          h("td", { "data-label": "File" }, entry.file || ""),
          h("td.num", { "data-label": "Began after" }, seconds((Date.parse(entry.started) - start) / 1000)),
          h("td.num", { "data-label": "Took" }, seconds(entry.seconds)),
        ))),
      )));
    timeline.hidden = false;
  }

  /** Run the reconciliation again (after an alias was added) and follow it until it is done. */
  async function reconcile() {
    const started = await attempt(() => api("POST", `${base}/reconcile`));
    if (!started) return false;
    lastCompleted = ""; // any completion from now on brings new results
    show(started);
    results.classList.add("stale");
    results.inert = true; // one change at a time: the tables come back with the new results
    timer = setTimeout(poll, POLL_MS);
    return true;
  }

  poll();
}

/** How far a file being read is ("page 412 of 1,256"), while it is read. */
function reading(file) {
  if (file.status !== "uploaded" || file.pages_read == null || !file.pages) return "";
  const count = (n) => n.toLocaleString("en-US");
  return h("span.file-progress", { testid: "file-progress" },
    ` page ${count(file.pages_read)} of ${count(file.pages)}`);
}

const FILE_COLUMNS = ["File", "Kind", "Pages", "Status", "Found", "Problem"];

/** What went wrong with a file: a sentence to act on, the technical detail one click away. */
function fileProblem(file) {
  if (!file.error && !file.problem) return "—";
  return [
    h("span.file-error", { testid: "file-error" }, problemSentence(file)),
    technicalDetail(file, { testid: "file-error-detail" }),
  ];
}

function fileRow(file) {
  const found = [
    file.transactions != null ? `${file.transactions} transactions` : "",
    file.expenses != null ? `${file.expenses} expenses` : "",
    file.checks ? `${file.checks} checks` : "",
    file.warnings ? `${file.warnings} warnings` : "",
  ].filter(Boolean).join(", ");
  return h("tr", { testid: "file-row", dataset: { name: file.name, status: file.status } },
    h("th.file-name", { scope: "row", "data-label": "File" }, file.name),
    h("td", { "data-label": "Kind" }, KIND_LABELS[file.kind] || "—"),
    h("td.num", { "data-label": "Pages" }, file.pages ?? "—"),
    h("td", { "data-label": "Status" }, badge(FILE_STATUS_LABELS[file.status] || file.status, `file-${file.status}`),
      reading(file)),
    h("td", { "data-label": "Found" }, found || "—"),
    h("td", { "data-label": "Problem" }, fileProblem(file)),
  );
}
