// Tables that stay fast at a month's size: a page of rows at a time, one search box, a sort button in
// each sortable heading, and a note saying what is shown. A row is built the first time its page is
// shown and kept, so paging back costs nothing and a month's 1,500 rows are never in the document at
// once. The caller gives the columns, a row builder and the words; filters of its own (an employee, a
// status) come in as a predicate. Used by results.js; nothing in it knows about transactions, so a list
// such as chase.js's lines can use it too.

import { fill, h } from "./format.js";

export const PAGE_SIZES = [25, 50, 100, 200];
const SEARCH_DELAY_MS = 120; // typing "97.98" filters once, not five times
const CHUNK = 50; // rows put in the document in one task
const collator = new Intl.Collator(undefined, { numeric: true, sensitivity: "base" });

/** "1,500": counts as the page writes them. */
export const count = (n) => Number(n).toLocaleString();

/** A table's settings: kept by the caller, so a table built again (after an alias) keeps them. */
export function tableState(defaults = {}) {
  return { query: "", sort: "", dir: 1, page: 0, size: 50, ...defaults };
}

/** "$1,234.50" or "97.9" as amount searches compare it ("1234.50", "97.9"); null for other words. */
export function amountQuery(term) {
  const m = /^[-−]?\$?([\d,]*\.?\d*)$/.exec(term);
  return m && /\d/.test(m[1]) ? m[1].replace(/,/g, "") : null;
}

/** "1234.50": an amount (sign dropped, to the cent) as amount searches match it. */
export function amountText(value) {
  const n = Math.abs(Number(value));
  return value === null || value === undefined || value === "" || !Number.isFinite(n) ? "" : n.toFixed(2);
}

/** One search term against one item's words and amounts: words contain it, amounts start with it. */
function matches(term, found) {
  if (found.text.includes(term)) return true;
  const amount = amountQuery(term);
  return amount !== null && found.amounts.some((a) => a.startsWith(amount));
}

/**
 * A paged, searchable, sortable table.
 *
 * - `columns`: [{key, label, num?, sort?: (item) => string|number}]; a column with `sort` gets a button.
 * - `row(item)`: its <tr>, cells in column order (each cell is labelled with its column for phone cards).
 * - `search(item)`: the words a search looks in; `amounts(item)`: the amounts it matches ("97.9" → 97.98).
 * - `filter(item)`: the caller's own filters; call `refresh()` when they change.
 * - `noun`: [one, many] ("exception", "exceptions"); `setItems(items, noun)` swaps both.
 * - `sortIds`: the test id prefix of the sort buttons ("sort-" → "sort-amount"), so two tables never clash.
 */
export function pagedTable({
  id, label, caption, columns, items, row, search, amounts = () => [], filter = () => true, state,
  noun, emptyText, searchLabel = "Search", testid, rowTestid, sortIds = "sort-", tableClass = "", onRender = () => {},
}) {
  let source = items;
  let words = noun;
  let shown = null; // the filtered, sorted list; null when it must be worked out again
  const built = new WeakMap(); // item → its <tr>, once shown
  const found = new WeakMap(); // item → {text, amounts}, once searched

  const body = h("tbody");
  const note = h("p.muted.small.shown-note", { testid: "shown-note", "aria-live": "polite" });
  const searchInput = h("input", {
    id: `${id}-search`, type: "search", testid: "table-search", value: state.query, autocomplete: "off",
  });
  const searchField = h("div.field.table-search", {},
    h("label", { for: `${id}-search` }, searchLabel), searchInput);
  const sizeSelect = h("select", { id: `${id}-size`, testid: "page-size" },
    PAGE_SIZES.map((n) => h("option", { value: String(n), selected: n === state.size }, `${n} rows`)));
  const prev = h("button.btn.btn-secondary.btn-small", { type: "button", testid: "page-prev" }, "Previous page");
  const next = h("button.btn.btn-secondary.btn-small", { type: "button", testid: "page-next" }, "Next page");
  const where = h("span.pager-where");
  const pager = h("nav.pager.no-print", { "aria-label": `${label} pages` },
    prev, where, next,
    h("span.pager-size", {}, h("label", { for: `${id}-size` }, "Rows per page"), sizeSelect));

  const heads = columns.map((c) => {
    const th = h(c.num ? "th.num" : "th", { scope: "col" });
    if (!c.sort) return fill(th, c.label);
    const button = h("button.sort", { type: "button", testid: `${sortIds}${c.key}` },
      c.label, h("span.sort-mark", { "aria-hidden": "true" }));
    button.addEventListener("click", () => {
      state.dir = state.sort === c.key ? -state.dir : 1;
      state.sort = c.key;
      state.page = 0;
      refresh();
    });
    return fill(th, button);
  });
  const table = h("table.data-table.cards", { testid, tabindex: "-1" },
    h("caption.visually-hidden", {}, caption),
    h("thead", {}, h("tr", {}, heads)),
    body);
  if (tableClass) table.classList.add(tableClass);
  const wrap = h("div.table-wrap", { tabindex: "0", role: "region", "aria-label": label }, table);

  const foundOf = (item) => {
    if (!found.has(item)) {
      found.set(item, { text: String(search(item) ?? "").toLowerCase(), amounts: amounts(item).map(amountText) });
    }
    return found.get(item);
  };

  const rowOf = (item) => {
    if (!built.has(item)) {
      const tr = row(item);
      if (rowTestid && !tr.dataset.testid) tr.dataset.testid = rowTestid;
      [...tr.cells].forEach((cell, i) => {
        if (!cell.dataset.label && columns[i] && cell.colSpan === 1) cell.dataset.label = columns[i].label;
      });
      built.set(item, tr);
    }
    return built.get(item);
  };

  const list = () => {
    if (shown) return shown;
    const terms = state.query.toLowerCase().split(/\s+/).filter(Boolean);
    const kept = source.filter((item) => filter(item) && terms.every((t) => matches(t, foundOf(item))));
    const column = columns.find((c) => c.key === state.sort && c.sort);
    if (column) {
      // Keys worked out once per sort; ties keep the items' own order.
      const keyed = kept.map((item, i) => ({ item, i, key: column.sort(item) }));
      keyed.sort((a, b) => state.dir * compareKeys(a.key, b.key) || a.i - b.i);
      shown = keyed.map((k) => k.item);
    } else {
      shown = kept;
    }
    return shown;
  };

  // Rows go into the document a chunk per task: 200 fresh rows at once would hold the page for a
  // third of a second. The note changes once the whole page is in, so it always says what is shown.
  let drawing = 0;
  const draw = () => {
    const mine = ++drawing;
    const rows = list();
    const pages = Math.max(1, Math.ceil(rows.length / state.size));
    state.page = Math.min(Math.max(0, state.page), pages - 1);
    const start = state.page * state.size;
    const page = rows.slice(start, start + state.size);
    fill(body, page.slice(0, CHUNK).map(rowOf));
    const [one, many] = words;
    const total = source.length;
    if (!page.length) {
      body.append(h("tr", {}, h("td.empty-cell", { colspan: String(columns.length) },
        total ? `No ${many} match the search or filters.` : emptyText)));
    }
    columns.forEach((c, i) => {
      if (!c.sort) return;
      const sorted = state.sort === c.key;
      heads[i].setAttribute("aria-sort", sorted ? (state.dir > 0 ? "ascending" : "descending") : "none");
      heads[i].querySelector(".sort-mark").textContent = sorted ? (state.dir > 0 ? " ▲" : " ▼") : " ↕";
    });
    const focused = document.activeElement;
    prev.disabled = state.page === 0;
    next.disabled = state.page >= pages - 1;
    if (focused === prev && prev.disabled) (next.disabled ? searchInput : next).focus();
    if (focused === next && next.disabled) (prev.disabled ? searchInput : prev).focus();
    where.textContent = `Page ${count(state.page + 1)} of ${count(pages)}`;
    onRender();

    const narrowed = rows.length < total ? ` that match (${count(total)} in all)` : "";
    const sorted = columns.find((c) => c.key === state.sort && c.sort);
    const order = sorted && rows.length > 1
      ? `, sorted by ${sorted.label.toLowerCase()} ${state.dir > 0 ? "ascending" : "descending"}` : "";
    const said = page.length
      ? `Showing ${count(start + 1)}–${count(start + page.length)} of ${count(rows.length)} ${rows.length === 1 ? one : many}${narrowed}${order}.`
      : `Showing 0 of ${count(total)} ${total === 1 ? one : many}.`;
    const more = (from) => {
      if (mine !== drawing) return; // a newer draw took over
      if (from >= page.length) {
        note.textContent = said;
        return;
      }
      setTimeout(() => {
        if (mine !== drawing) return;
        body.append(...page.slice(from, from + CHUNK).map(rowOf));
        more(from + CHUNK);
      }, 0);
    };
    more(CHUNK);
  };

  const turn = (by) => {
    state.page += by;
    draw();
    // The pager is under the table: show the new page from its first row (measured with the frame's
    // own layout, not one forced here).
    requestAnimationFrame(() => {
      if (wrap.getBoundingClientRect().top < 0) wrap.scrollIntoView({ block: "start" });
    });
  };

  /** Work the list out again (the caller's filters changed) from the first page. */
  function refresh({ keepPage = false } = {}) {
    shown = null;
    if (!keepPage) state.page = 0;
    draw();
  }

  let typing = 0;
  searchInput.addEventListener("input", () => {
    clearTimeout(typing);
    typing = setTimeout(() => {
      state.query = searchInput.value.trim();
      refresh();
    }, SEARCH_DELAY_MS);
  });
  sizeSelect.addEventListener("change", () => {
    const first = state.page * state.size; // keep the first row shown on the new page
    state.size = Number(sizeSelect.value);
    state.page = Math.floor(first / state.size);
    draw();
  });
  prev.addEventListener("click", () => turn(-1));
  next.addEventListener("click", () => turn(1));

  refresh({ keepPage: true });
  return {
    table, wrap, searchField, note, pager,
    /** Search box, note, table and pager in one block. */
    element: () => h("div.paged-table", {}, h("div.filters", {}, searchField), note, wrap, pager),
    refresh,
    /** Show other items (with their noun), from the first page. */
    setItems(fresh, freshNoun = words) {
      source = fresh;
      words = freshNoun;
      refresh();
    },
  };
}

function compareKeys(a, b) {
  if (typeof a === "number" && typeof b === "number") return a - b;
  return collator.compare(String(a ?? ""), String(b ?? ""));
}
