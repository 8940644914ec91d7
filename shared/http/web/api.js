// Talking to the server: JSON calls, request-body uploads with progress, downloads, the access key.

import { sentence } from "./format.js";

const KEY_STORAGE = "ccproc.accessKey";
// The Functions host checks function keys in this header; `ccproc api` accepts it as well.
const KEY_HEADER = "x-functions-key";
const OFFLINE = "The server could not be reached. Check your connection and try again.";

/** A refusal or failure, with a message fit to show to a person. */
export class ApiError extends Error {
  constructor(message, { status = 0, code = "network", session = null } = {}) {
    super(message);
    this.status = status;
    this.code = code;
    // A duplicate file's answer names the caller's session that already holds it ({id, name}).
    this.session = session;
  }
}

export function accessKey() {
  try {
    return sessionStorage.getItem(KEY_STORAGE) || "";
  } catch {
    return "";
  }
}

export function setAccessKey(key) {
  try {
    if (key) sessionStorage.setItem(KEY_STORAGE, key);
    else sessionStorage.removeItem(KEY_STORAGE);
  } catch {
    // Storage refused (private mode): the key then lasts until the page is reloaded.
  }
  memoryKey = key;
  if (key) keyRejected = false;
}

let memoryKey = "";
const currentKey = () => accessKey() || memoryKey;

function keyHeaders() {
  const key = currentKey();
  return key ? { [KEY_HEADER]: key } : {};
}

/** The page learns that a key is needed (or the one given is wrong). */
let keyRejected = false; // the last key given was refused (calls in flight then answer 401 too)

function unauthorised() {
  if (currentKey()) keyRejected = true;
  setAccessKey("");
  window.dispatchEvent(new CustomEvent("ccproc:key-needed", { detail: { wrongKey: keyRejected } }));
  return new ApiError(
    keyRejected
      ? "That access key was not accepted. Enter the access key again."
      : "An access key is needed. Enter it in the form above.",
    { status: 401, code: "unauthorized" },
  );
}

/** The error a failed response carries, as one sentence. */
async function errorOf(response) {
  if (response.status === 401) return unauthorised();
  let code = "http_error";
  let message = "";
  let session = null;
  try {
    const body = await response.json();
    code = body?.error?.code || code;
    message = body?.error?.message || "";
    session = body?.error?.session || null;
  } catch {
    // Not JSON (a proxy's page): fall back to a message by status.
  }
  if (!message) {
    message = response.status >= 500
      ? "The server had a problem. Please try again in a moment"
      : `The request was refused (status ${response.status})`;
  }
  return new ApiError(sentence(message), { status: response.status, code, session });
}

/** A JSON API call; resolves to the parsed body, rejects with an ApiError. */
export async function api(method, path, body, extraHeaders = {}) {
  const headers = { Accept: "application/json", ...keyHeaders(), ...extraHeaders };
  const init = { method, headers };
  if (body !== undefined) {
    headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  let response;
  try {
    response = await fetch(path, init);
  } catch {
    throw new ApiError(OFFLINE);
  }
  if (!response.ok) throw await errorOf(response);
  if (response.status === 204) return null;
  try {
    return await response.json();
  } catch {
    throw new ApiError("The server sent an answer the page could not read. Please try again.");
  }
}

/** PUT a file as the request body with progress callbacks (XHR: fetch cannot report upload progress). */
export function putFile(path, file, onProgress, signal, extraHeaders = {}) {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open("PUT", path);
    xhr.setRequestHeader("Content-Type", "application/pdf");
    for (const [name, value] of Object.entries({ ...keyHeaders(), ...extraHeaders })) xhr.setRequestHeader(name, value);
    xhr.responseType = "text";
    xhr.upload.onprogress = (event) => onProgress(event.loaded, event.lengthComputable ? event.total : file.size);
    xhr.onerror = () => reject(new ApiError(OFFLINE));
    xhr.onabort = () => reject(new ApiError("The upload was cancelled.", { code: "aborted" }));
    xhr.onload = async () => {
      if (xhr.status >= 200 && xhr.status < 300) {
        onProgress(file.size, file.size);
        try {
          resolve(JSON.parse(xhr.responseText || "null"));
        } catch {
          resolve(null);
        }
        return;
      }
      const response = new Response(xhr.responseText || null, {
        status: xhr.status,
        headers: { "Content-Type": xhr.getResponseHeader("Content-Type") || "application/json" },
      });
      reject(await errorOf(response));
    };
    signal?.addEventListener("abort", () => xhr.abort());
    xhr.send(file);
  });
}

/** The file name a Content-Disposition header gives, or `fallback`. */
function attachmentName(disposition, fallback) {
  if (!disposition) return fallback;
  const star = /filename\*=UTF-8''([^;]+)/i.exec(disposition);
  if (star) {
    try {
      return decodeURIComponent(star[1]);
    } catch {
      // Fall through to the plain form.
    }
  }
  const plain = /filename="?([^";]+)"?/i.exec(disposition);
  return plain ? plain[1] : fallback;
}

/** GET `path` with the access key in a header (never in a URL); a refusal becomes an ApiError. */
export async function fetchWithKey(path) {
  let response;
  try {
    response = await fetch(path, { headers: keyHeaders() });
  } catch {
    throw new ApiError(OFFLINE);
  }
  if (!response.ok) throw await errorOf(response);
  return response;
}

/** Download `path` with the access key in a header (never in a URL): fetch, Blob URL, click. */
export async function downloadWithKey(path, fallbackName) {
  const response = await fetchWithKey(path);
  const blob = await response.blob();
  const url = URL.createObjectURL(blob);
  const link = document.createElement("a");
  link.href = url;
  link.download = attachmentName(response.headers.get("Content-Disposition"), fallbackName);
  link.hidden = true;
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
}

/** True when calls carry a key, so downloads must go through `downloadWithKey`. */
export function hasAccessKey() {
  return Boolean(currentKey());
}

/** A path segment, encoded. */
export const seg = (value) => encodeURIComponent(value);

// Used only while the server does not publish its limits (its own defaults).
const DEFAULT_LIMITS = {
  max_upload_bytes: 100 * 1024 * 1024,
  max_file_bytes: 2 * 1024 ** 3,
  upload_block_bytes: 8 * 1024 * 1024,
};
let limits = null;

/** The server's size limits: request body, file, block. */
export async function getLimits() {
  if (limits) return limits;
  try {
    limits = { ...DEFAULT_LIMITS, ...(await api("GET", "/api/limits")) };
  } catch (error) {
    if (error.status !== 404) throw error;
    limits = { ...DEFAULT_LIMITS };
  }
  return limits;
}
