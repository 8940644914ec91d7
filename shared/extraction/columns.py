"""Where a statement's columns are printed, and where a row's text is cut between two of them.

One regex group of a layout may span two printed columns (merchant + city, merchant group +
product). The column header line on each page says where every column begins; a row whose cells
sit under it is cut there — a word running across a column's edge (a full-width value in a
fixed-width font) first of all. A row printed away from its header's columns (one string of
single-spaced cells) is cut at its cells, and, as the last resort, by the merchant column's width
and the words that begin city names.
"""

from __future__ import annotations

import itertools
import re

from shared.extraction.layouts import PIECES, StatementLayout
from shared.pdf.rows import Row
from shared.values import is_doubled

# Words that begin multi-word US city names; used only when a row gives no column boundary.
_CITY_PREFIXES = frozenset(
    {
        "SAN",
        "SANTA",
        "LOS",
        "LAS",
        "LAKE",
        "NEW",
        "FORT",
        "FT",
        "PORT",
        "ST",
        "SAINT",
        "EL",
        "LA",
        "DEL",
        "NORTH",
        "SOUTH",
        "EAST",
        "WEST",
        "GRAND",
        "CEDAR",
        "COLLEGE",
        "CORPUS",
        "BATON",
        "BIG",
        "LITTLE",
        "PALM",
        "ROUND",
        "SUGAR",
        "GREEN",
        "HIGH",
        "MOUNT",
        "MT",
        "PALO",
        "DES",
        "BOWLING",
        "CAPE",
        "CHULA",
        "DALY",
        "DEER",
        "BEL",
        "BELLE",
        "BAY",
        "CORAL",
        "DAYTONA",
        "SIOUX",
        "ELK",
        "TWIN",
        "CITY",
        "IOWA",
        "KANSAS",
        "JERSEY",
        "OKLAHOMA",
        "CARSON",
        "COUNCIL",
        "OVERLAND",
        "CRYSTAL",
        "MORENO",
        "RANCHO",
        "SIMI",
        "THOUSAND",
    }
)
_CITY_WORD = re.compile(r"^[A-Z][A-Z.'\-]*$")
_STARTS_LIKE_ROW = re.compile(r"^" + PIECES["date"] + r"\b")  # a transaction row begins with its date


class StatementColumns:
    """The columns of the page being read, from its header line, and the cuts they decide."""

    def __init__(self, layout: StatementLayout, transaction: re.Pattern[str]) -> None:
        self.layout = layout
        self.transaction = transaction
        # field -> x where its column begins, read from the latest column header line.
        self.columns: dict[str, float] = {}
        self._cut_columns: tuple[float, ...] = ()
        self.known_cities: set[str] = set()

    def match(self, row: Row) -> tuple[Row, re.Match[str], bool] | None:
        """A transaction row's match, and whether its cells sit under the page's column header.

        Where they do, a word running across a column's edge is cut there first (and the row read
        again). A producer that prints a row as one string of single-spaced cells, away from its
        header's columns, is read by its cells alone.
        """
        m = self.transaction.search(row.text)
        if not self._cut_columns or not _STARTS_LIKE_ROW.match(row.text):
            return None if m is None else (row, m, False)
        split = row.split_at(self._cut_columns)
        again = self.transaction.search(split.text) if split is not row else None
        if again is not None and self.aligned(again, split):
            return split, again, True
        return None if m is None else (row, m, self.aligned(m, row))

    def aligned(self, m: re.Match[str], row: Row) -> bool:
        """True when the row's merchant begins where the header's merchant column does."""
        x = self.columns.get("merchant")
        group = "merchant_city" if "merchant_city" in m.re.groupindex else "merchant"
        return x is not None and abs(row.x_at(m.start(group)) - x) <= 0.6 * row.size

    def header(self, row: Row) -> bool:
        """Read where each column begins from a column header line (every label, in order)."""
        columns = self.layout.columns
        if not columns or columns[0].label not in row.text:
            return False
        found: dict[str, float] = {}
        offset = 0
        for column in columns:
            at = row.text.find(column.label, offset)
            if at < 0:
                return False
            offset = at + len(column.label)
            if column.field:
                found[column.field] = row.x_at(at)
        self.columns = found
        # Cut at the columns that follow a text column: where a full-width value runs on.
        self._cut_columns = tuple(
            found[column.field] for prev, column in itertools.pairwise(columns)
            if column.field and prev.field and column.align == "left"
        )  # fmt: skip
        return True

    def merchant_city(self, m: re.Match[str], row: Row, aligned: bool) -> tuple[str, str | None]:
        start, end = m.span("merchant_city")
        text = m.group("merchant_city")
        if aligned and "city" in self.columns:
            # The header says where the city column begins: the words from there are the city.
            cut = row.column_start(start, end, self.columns["city"])
            if cut is not None:
                return text[: cut - start].strip(), text[cut - start :].strip()
            if row.x_at(start) >= self.columns["city"] - 0.3 * row.size:
                return "", text.strip()
            return text.strip(), None
        cuts = _cell_starts(row, start, end)
        if cuts:
            # No header to go by: the city is printed as a cell of its own.
            cut = cuts[-1]
            merchant, city = text[:cut].strip(), text[cut:].strip()
            self.known_cities.add(city)
            return merchant, city
        return self._guess_merchant_city(text)

    def _guess_merchant_city(self, text: str) -> tuple[str, str | None]:
        """The whole row was one run: the merchant column's width and city names decide."""
        words = text.split()
        limit = self.layout.merchant_max_length or len(text)
        splits = []
        for i in range(1, len(words)):
            merchant, city = " ".join(words[:i]), " ".join(words[i:])
            if len(merchant) <= limit and all(_CITY_WORD.match(w) for w in words[i:]):
                splits.append((merchant, city, i))
        if not splits:
            return text, None
        for merchant, city, _ in splits:
            if city in self.known_cities:
                return merchant, city
        for merchant, city, _ in splits:
            if len(merchant) == limit:  # a name that fills its column was cut there
                return merchant, city
        # Otherwise the longest merchant, its city taking the words that begin city names.
        _, _, i = splits[-1]
        while i > 1 and words[i - 1] in _CITY_PREFIXES and any(s[2] == i - 1 for s in splits):
            i -= 1
        return " ".join(words[:i]), " ".join(words[i:])

    def group_product(self, m: re.Match[str], row: Row, aligned: bool) -> tuple[str, str | None]:
        start, end = m.span("group_product")
        text = m.group("group_product")
        if aligned and "product" in self.columns:
            cut = row.column_start(start, end, self.columns["product"])
            if cut is None:
                return text.strip(), None
            return text[: cut - start].strip(), text[cut - start :].strip() or None
        words = text.split()
        if self.layout.doubled_product:
            # The product is the text printed with every character twice.
            first_doubled = next((i for i, w in enumerate(words) if i > 0 and is_doubled(w)), len(words))
            return " ".join(words[:first_doubled]), " ".join(words[first_doubled:]) or None
        cuts = _cell_starts(row, start, end)
        if cuts:
            return text[: cuts[0]].strip(), text[cuts[0] :].strip() or None
        return text, None


def _cell_starts(row: Row, start: int, end: int) -> list[int]:
    """Offsets, relative to `start`, where a cell begins inside `row.text[start:end]`: after a wide
    gap, or where a separately drawn text touches the one before it."""
    cells = {row.starts[i] for i in row.breaks} | {offset for offset, _ in row.joins}
    return sorted(offset - start for offset in cells if start < offset < end)
