// The page: routes (#/, #/sessions/<id>, #/sessions/<id>/chase, #/sessions/<id>/print[?employee=…],
// #/aliases) and the access-key form.

import { setAccessKey } from "./api.js";
import { clearMessage, showFlash } from "./ui.js";
import { renderStart } from "./start.js";
import { renderSession } from "./session.js";
import { renderAliases } from "./aliases.js";
import { renderChase } from "./chase.js";
import { renderPrint } from "./print.js";

const main = document.getElementById("main");
const keyForm = document.querySelector('[data-testid="key-form"]');
const keyInput = document.querySelector('[data-testid="key-input"]');
const keyNote = document.getElementById("key-note");

// -- the access key ----------------------------------------------------------------------------
window.addEventListener("ccproc:key-needed", (event) => {
  keyNote.textContent = event.detail?.wrongKey
    ? "That key was not accepted. Enter the access key you were given."
    : "This site needs an access key. Enter the key you were given.";
  if (keyForm.hidden) {
    keyForm.hidden = false;
    keyInput.value = "";
    keyInput.focus();
  }
});

keyForm.addEventListener("submit", (event) => {
  event.preventDefault();
  const key = keyInput.value.trim();
  if (!key) {
    keyNote.textContent = "Enter the access key first.";
    keyInput.focus();
    return;
  }
  setAccessKey(key);
  keyInput.value = "";
  keyForm.hidden = true;
  clearMessage();
  route();
});

// -- routes ------------------------------------------------------------------------------------
let current = null; // the view on screen: {alive: bool}

function route() {
  if (current) current.alive = false;
  const view = { alive: true };
  current = view;
  const hash = location.hash || "#/";
  const match = /^#\/sessions\/([^/?#]+)/.exec(hash);
  const chase = /^#\/sessions\/([^/?#]+)\/chase(?:$|[?#])/.exec(hash);
  const print = /^#\/sessions\/([^/?#]+)\/print(?:$|\?([^#]*))/.exec(hash);
  main.replaceChildren();
  document.body.classList.toggle("print-view", Boolean(print));
  if (print) {
    renderPrint(main, decodeURIComponent(print[1]), new URLSearchParams(print[2] || ""), view);
  } else if (chase) {
    renderChase(main, decodeURIComponent(chase[1]), view);
  } else if (/^#\/aliases(?:$|[/?#])/.test(hash)) {
    renderAliases(main, view);
  } else if (match) {
    renderSession(main, decodeURIComponent(match[1]), view);
  } else {
    renderStart(main, view);
  }
}

window.addEventListener("hashchange", () => {
  clearMessage();
  showFlash();
  route();
  main.focus({ preventScroll: true });
  window.scrollTo(0, 0);
});

// The skip link moves focus without touching the hash (the hash holds the route).
document.querySelector(".skip-link").addEventListener("click", (event) => {
  event.preventDefault();
  main.focus();
});

route();
