// Checking chosen files in the browser, and sending them: small files as one request body, large
// ones straight to storage in blocks (Azure "Put Block" / "Put Block List"), resumable after a blip.

import { ApiError, api, putFile, seg } from "./api.js";
import { megabytes } from "./format.js";

const PDF_MAGIC = "%PDF-";
const BLOCKS_IN_FLIGHT = 3;
const TRIES = 6;
const FIRST_BACKOFF_MS = 500;
// Files up to this size are digested in the browser before an upload URL is asked for, so a file
// already in another session is found before any byte is sent (larger ones: once the server reads them).
const DIGEST_MAX_BYTES = 512 * 1024 * 1024;

/** Why a chosen file cannot be sent, as a sentence; null when it may go. */
export async function refusal(file, limits) {
  if (file.size === 0) return "This file is empty.";
  if (limits && file.size > limits.max_file_bytes) {
    return `This file is ${megabytes(file.size)}; the largest file accepted is ${megabytes(limits.max_file_bytes)}.`;
  }
  let head = "";
  try {
    head = new TextDecoder("latin1").decode(await file.slice(0, 5).arrayBuffer());
  } catch {
    return "This file could not be read. Choose it again.";
  }
  if (head !== PDF_MAGIC) return "This is not a PDF file. Choose the statement or receipts report as a PDF.";
  return null;
}

/** An error with its technical detail kept apart from the sentence the person reads (`error.detail`). */
function withDetail(error, detail) {
  error.detail = detail.trim();
  return error;
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const retryable = (status) => status === 0 || status === 408 || status === 429 || status >= 500;

/** 32 random hex digits, for an upload's Idempotency-Key. */
function uploadId() {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

/** The file's SHA-256 in hex, or null when the browser cannot make one (or the file is very large). */
async function sha256(file) {
  if (!crypto.subtle || file.size > DIGEST_MAX_BYTES) return null;
  try {
    const digest = await crypto.subtle.digest("SHA-256", await file.arrayBuffer());
    return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, "0")).join("");
  } catch {
    return null;
  }
}

/** True for the refusal of a file another of the caller's sessions already holds (`error.session`). */
export const isDuplicate = (error) => error?.code === "duplicate_file" && Boolean(error.session?.id);

/** Sends one file into a session; `onProgress(sentBytes)`. `start()` and `resume()` resolve when stored.
 * A file already in another session is refused (an ApiError that `isDuplicate`) unless
 * `allowDuplicate` is set (after the person chose "Upload anyway"). */
export class FileUpload {
  constructor(sessionId, file, limits, onProgress, { allowDuplicate = false } = {}) {
    this.sessionId = sessionId;
    this.file = file;
    this.limits = limits;
    this.onProgress = onProgress;
    this.allowDuplicate = allowDuplicate;
    this.direct = file.size <= limits.max_upload_bytes;
    this.record = null;
    // The same id on every try of this file: an upload whose answer was lost is not stored twice.
    this.uploadId = uploadId();
    this.target = null; // {url, headers} of the block path
    this.done = []; // per block: true once storage has it
    this.inFlight = new Map(); // block index → bytes of it sent so far
  }

  get blockSize() {
    return Math.max(1, this.limits.upload_block_bytes);
  }

  get blockCount() {
    return Math.max(1, Math.ceil(this.file.size / this.blockSize));
  }

  /** Bytes storage already has, plus what is on its way. */
  sent() {
    if (this.direct) return this.directSent || 0;
    let bytes = 0;
    this.done.forEach((ok, i) => { if (ok) bytes += this.blockBytes(i); });
    for (const loaded of this.inFlight.values()) bytes += loaded;
    return Math.min(bytes, this.file.size);
  }

  blockBytes(i) {
    return Math.min(this.blockSize, this.file.size - i * this.blockSize);
  }

  async start() {
    if (this.direct) {
      const query = this.allowDuplicate ? "?allow_duplicate=true" : "";
      this.record = await putFile(
        `/api/sessions/${seg(this.sessionId)}/files/${seg(this.file.name)}${query}`,
        this.file,
        (loaded) => { this.directSent = loaded; this.onProgress(this.sent()); },
        undefined,
        { "Idempotency-Key": this.uploadId },
      );
      return this.record;
    }
    if (!this.target) await this.newTarget();
    return this.sendBlocks();
  }

  /** Continue after a failure: the direct path starts over, the block path sends only what is missing. */
  resume() {
    return this.start();
  }

  async newTarget() {
    // A file already given a link gets a fresh link for the same file: the blocks it sent stay stored.
    const query = new URLSearchParams();
    if (this.record) {
      query.set("file", this.record.id);
    } else if (this.allowDuplicate) {
      query.set("allow_duplicate", "true");
    } else {
      const digest = await sha256(this.file);
      if (digest) query.set("sha256", digest);
    }
    const search = String(query) ? `?${query}` : "";
    const answer = await api(
      "POST", `/api/sessions/${seg(this.sessionId)}/files/${seg(this.file.name)}/upload-url${search}`,
      undefined, { "Idempotency-Key": this.uploadId },
    );
    if (!this.record) this.done = new Array(this.blockCount).fill(false);
    this.record = answer.file;
    this.target = { url: answer.url, headers: answer.headers || {} };
    this.expires = Date.now() + (answer.expires_in_minutes || 15) * 60_000;
  }

  blockId(i) {
    // Every id must have the same length before encoding: a fixed-width counter.
    return btoa(`block-${String(i + 1).padStart(6, "0")}`);
  }

  async sendBlocks() {
    if (Date.now() > this.expires - 30_000) await this.newTarget(); // the link is (nearly) stale: a new one
    const queue = this.done.map((ok, i) => (ok ? -1 : i)).filter((i) => i >= 0);
    let failure = null;
    const worker = async () => {
      // Once one block has given up, the others finish what they are sending and take no more.
      while (queue.length && !failure) {
        const i = queue.shift();
        try {
          await this.sendBlock(i);
        } catch (error) {
          failure ??= error;
        }
      }
    };
    // Settle every worker before answering, so a Resume never races blocks still on their way.
    await Promise.all(Array.from({ length: Math.min(BLOCKS_IN_FLIGHT, queue.length) }, worker));
    if (failure) throw failure;
    await this.commit();
    return this.record;
  }

  async sendBlock(i) {
    const body = this.file.slice(i * this.blockSize, i * this.blockSize + this.blockBytes(i));
    const url = `${this.target.url}&comp=block&blockid=${encodeURIComponent(this.blockId(i))}`;
    await this.withRetries(() => this.put(url, body, {}, (loaded) => {
      this.inFlight.set(i, loaded);
      this.onProgress(this.sent());
    }), () => this.inFlight.delete(i));
    this.inFlight.delete(i);
    this.done[i] = true;
    this.onProgress(this.sent());
  }

  async commit() {
    const ids = this.done.map((_, i) => `<Latest>${this.blockId(i)}</Latest>`).join("");
    const body = `<?xml version="1.0" encoding="utf-8"?><BlockList>${ids}</BlockList>`;
    // The blob's metadata the upload URL came with (its trace context) is set as the blocks commit.
    const metadata = Object.fromEntries(Object.entries(this.target.headers)
      .filter(([name]) => name.toLowerCase().startsWith("x-ms-meta-")));
    await this.withRetries(() => this.put(`${this.target.url}&comp=blocklist`, body, {
      ...metadata,
      "x-ms-blob-content-type": "application/pdf",
      "Content-Type": "application/xml",
    }));
  }

  /** Try `send` up to TRIES times, waiting 0.5 s, 1 s, 2 s … between tries that may succeed later. */
  async withRetries(send, afterFailure = () => {}) {
    for (let attempt = 1; ; attempt += 1) {
      try {
        return await send();
      } catch (error) {
        afterFailure();
        this.onProgress(this.sent());
        if (!retryable(error.status) || attempt >= TRIES) throw error;
        await sleep(FIRST_BACKOFF_MS * 2 ** (attempt - 1));
      }
    }
  }

  /** One PUT to storage (another origin: no access key goes there). */
  put(url, body, headers, onProgress = () => {}) {
    return new Promise((resolve, reject) => {
      const xhr = new XMLHttpRequest();
      xhr.open("PUT", url);
      for (const [name, value] of Object.entries(headers)) xhr.setRequestHeader(name, value);
      xhr.upload.onprogress = (event) => onProgress(event.loaded);
      xhr.onerror = () => reject(withDetail(new ApiError(
        "The connection to storage was lost. Press Resume to continue where the upload stopped.",
      ), "PUT to blob storage: network error (no answer)"));
      xhr.ontimeout = xhr.onerror;
      xhr.onload = () => {
        if (xhr.status >= 200 && xhr.status < 300) {
          resolve();
        } else if (xhr.status === 403) {
          this.target = null; // the link expired or was refused: the next try asks for a new one
          reject(withDetail(new ApiError(
            "The upload link ran out or was refused. Press Resume to continue where the upload stopped.",
            { status: 403 },
          ), `PUT to blob storage: HTTP 403 ${xhr.responseText.slice(0, 200)}`));
        } else {
          reject(withDetail(new ApiError(
            "Storage did not take part of the file. Press Resume to try again.",
            { status: xhr.status },
          ), `PUT to blob storage: HTTP ${xhr.status} ${xhr.responseText.slice(0, 200)}`));
        }
      };
      xhr.send(body);
    });
  }
}
