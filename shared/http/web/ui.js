// The message area (one sentence at a time, announced politely) and the window title.

import { ApiError, downloadWithKey, hasAccessKey } from "./api.js";
import { fill, h } from "./format.js";

const PRODUCT = "Credit Card Processor";

const area = () => document.querySelector('[data-testid="alert"]');

/** Show one sentence in the message area; `kind` is "error" or "info". `tag` names what the sentence
 * is about, so a view can later replace it when it is no longer true (see `shownTag`). */
export function say(message, kind = "error", tag = "") {
  const text = message instanceof Error ? message.message : String(message);
  area().dataset.tag = tag;
  fill(
    area(),
    h(
      `div.alert.alert-${kind}`,
      {},
      h("span.alert-icon", { "aria-hidden": "true" }, kind === "error" ? "!" : "i"),
      h("p", {}, text),
      h("button.btn-link.alert-close", { type: "button", onclick: clearMessage }, "Dismiss"),
    ),
  );
}

export const inform = (message) => say(message, "info");

export function clearMessage() {
  area().replaceChildren();
  area().dataset.tag = "";
}

/** The tag of the sentence on show ("" for none or an untagged one). */
export function shownTag() {
  const el = area();
  return el.childElementCount ? el.dataset.tag || "" : "";
}

/** Run an async action; a failure becomes a message (a 401 also opens the key form). */
export async function attempt(action) {
  try {
    return await action();
  } catch (error) {
    say(error instanceof ApiError ? error : new ApiError("Something went wrong. Please try again."));
    if (!(error instanceof ApiError)) console.error(error);
    return undefined;
  }
}

/** Set the window title to say where the person is. */
export function setTitle(where) {
  document.title = where ? `${where} — ${PRODUCT}` : PRODUCT;
}

let pending = null;

/** A message for the next view (navigation clears the message area first). */
export function flash(message, kind = "info", tag = "") {
  pending = { message, kind, tag };
}

/** Show the message `flash` kept, if any. */
export function showFlash() {
  if (pending) say(pending.message, pending.kind, pending.tag);
  pending = null;
}

/** A download: a plain link; with an access key, fetched with the key in a header instead. */
export function downloadLink(href, label, fileName, attrs = {}) {
  // An empty `download`: the server names the file (Content-Disposition).
  const link = h("a", { href, download: "", ...attrs }, label);
  link.addEventListener("click", async (event) => {
    if (!hasAccessKey()) return; // the plain link works
    event.preventDefault();
    link.setAttribute("aria-busy", "true");
    await attempt(() => downloadWithKey(href, fileName));
    link.removeAttribute("aria-busy");
  });
  return link;
}
