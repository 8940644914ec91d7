// A session's chase list (#/sessions/<id>/chase): per employee, what is missing, ready to send or print.

import { fill, h } from "./format.js";

export function renderChase(container, sessionId, view) {
  if (!view.alive) return;
  fill(container, h("section.card", {}, h("h1", {}, "Chase list")));
}
