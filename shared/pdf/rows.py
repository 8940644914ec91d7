"""Printed rows from positioned text: words and cells found by where they are printed.

Producers draw one printed line in many ways: each cell its own text object, one object whose
cells are placed by positioning moves, each word its own object, or one fixed-width string whose
cells are separated by runs of spaces. `shared.pdf.text` reduces all of them to `Piece`s — text
between spaces with its x extent — and this module rebuilds the same rows from them:

* pieces on one baseline form a row, left to right;
* pieces that touch (a string split by kerning, one glyph per object) join into one word;
  pieces that overlap are kept apart (a full-width merchant drawn over the city's first letter);
* words closer than 1.5 spaces of their font form a cell; a wider gap starts a new cell.

Columns known from elsewhere (a statement's column header) cut a word that runs across one:
`Row.split_at`.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

# Pieces this close (in font sizes) join into one word; closer than -TOUCH they overlap.
TOUCH = 0.15
OVERLAP = 0.1
# A gap wider than this many spaces of the font starts a new cell.
CELL_GAP_SPACES = 1.5


@dataclass(frozen=True, slots=True)
class Piece:
    """Text without spaces as drawn: its x extent and baseline in points, font size, and the width
    a space of its font takes there."""

    x0: float
    x1: float
    y: float
    size: float
    space: float
    text: str


@dataclass(frozen=True, slots=True)
class Cell:
    """Words printed close together: one table cell, label or value."""

    text: str
    x0: float
    x1: float


@dataclass(frozen=True, slots=True)
class Row:
    """The words on one baseline, left to right, joined by one space.

    `starts`, `x0s`, `x1s` give each word's offset in `text` and its printed extent; `breaks` the
    indices of the words that begin a cell (always 0 first). Flat tuples, so a row is cheap to send
    between processes.
    """

    text: str
    starts: tuple[int, ...]
    x0s: tuple[float, ...]
    x1s: tuple[float, ...]
    breaks: tuple[int, ...]
    size: float
    # (offset in `text`, x) where two touching pieces were joined into one word: exact cut points.
    joins: tuple[tuple[int, float], ...] = ()

    def word(self, index: int) -> str:
        """The text of word `index`."""
        end = self.starts[index + 1] - 1 if index + 1 < len(self.starts) else len(self.text)
        return self.text[self.starts[index] : end]

    def cells(self) -> list[Cell]:
        """The row's cells, left to right."""
        out = []
        bounds = (*self.breaks, len(self.starts))
        for first, stop in itertools.pairwise(bounds):
            end = self.starts[stop] - 1 if stop < len(self.starts) else len(self.text)
            out.append(Cell(self.text[self.starts[first] : end], self.x0s[first], self.x1s[stop - 1]))
        return out

    def word_at(self, offset: int) -> int:
        """The index of the word holding character `offset` (or the space after it)."""
        index = 0
        for i, start in enumerate(self.starts):
            if start > offset:
                break
            index = i
        return index

    def x_at(self, offset: int) -> float:
        """Where character `offset` is printed."""
        i = self.word_at(offset)
        return self._x_in(i, min(offset - self.starts[i], len(self.word(i))))

    def _x_in(self, i: int, at: int) -> float:
        """Where character `at` of word `i` begins: exact at a join, else the word's width shared
        evenly (exact for the fixed-width fonts whose words run across columns)."""
        length = len(self.word(i))
        if at <= 0 or not length:
            return self.x0s[i]
        if at >= length:
            return self.x1s[i]
        offset = self.starts[i] + at
        for joined, x in self.joins:
            if joined == offset:
                return x
        return self.x0s[i] + (self.x1s[i] - self.x0s[i]) * at / length

    def _offset_at(self, i: int, x: float, tolerance: float) -> int:
        """The character of word `i` nearest to where `x` falls: a join within `tolerance` first."""
        start, length = self.starts[i], len(self.word(i))
        for joined, jx in self.joins:
            if start < joined < start + length and abs(jx - x) <= tolerance:
                return joined - start
        return round((x - self.x0s[i]) / ((self.x1s[i] - self.x0s[i]) / length)) if length else 0

    def column_start(self, start: int, end: int, x: float) -> int | None:
        """The offset in `text[start:end]` where a column beginning at `x` begins, if it does."""
        tolerance = 0.3 * self.size
        first, last = self.word_at(start), self.word_at(max(start, end - 1))
        for i in range(first, last + 1):
            if self.x0s[i] >= x - tolerance and self.starts[i] > start:
                return self.starts[i]
        return None

    def split_at(self, columns: Iterable[float]) -> Row:
        """This row with every word that runs across a column's left edge cut there: a fixed-width
        line where a full-length value runs into the next column with no space. A column where
        some word already begins (or no word crosses) is left alone."""
        tolerance = 0.3 * self.size
        cuts: dict[int, set[int]] = {}
        for x in columns:
            if any(abs(x0 - x) <= tolerance for x0 in self.x0s):
                continue
            for i, (x0, x1) in enumerate(zip(self.x0s, self.x1s, strict=True)):
                if x0 < x - tolerance and x1 > x + tolerance:
                    at = self._offset_at(i, x, tolerance)
                    if 0 < at < len(self.word(i)):
                        cuts.setdefault(i, set()).add(at)
                    break
        if not cuts:
            return self
        words: list[_Word] = []
        for i, start in enumerate(self.starts):
            word = self.word(i)
            bounds = [0, *sorted(cuts.get(i, ())), len(word)]
            for a, b in itertools.pairwise(bounds):
                joins = [(o - start - a, jx) for o, jx in self.joins if start + a < o < start + b]
                begins = a > 0 or i in self.breaks
                words.append((word[a:b], self._x_in(i, a), self._x_in(i, b), begins, joins))
        return _row_of(words, self.size)


# A word while a row is built: text, x0, x1, whether it begins a cell, and its joins (offset in
# the word, x).
_Word = tuple[str, float, float, bool, list[tuple[int, float]]]


def _row_of(words: Sequence[_Word], size: float) -> Row:
    starts: list[int] = []
    joins: list[tuple[int, float]] = []
    offset = 0
    for text, _, _, _, inner in words:
        starts.append(offset)
        joins.extend((offset + at, x) for at, x in inner)
        offset += len(text) + 1
    return Row(
        " ".join(w[0] for w in words),
        tuple(starts),
        tuple(w[1] for w in words),
        tuple(w[2] for w in words),
        tuple(i for i, w in enumerate(words) if w[3] or i == 0),
        size,
        tuple(joins),
    )


def rows_from_pieces(pieces: Iterable[Piece]) -> list[Row]:
    """Group pieces into rows by baseline, top to bottom; join touching pieces into words."""
    ordered = sorted(pieces, key=lambda p: (-p.y, p.x0))
    lines: list[list[Piece]] = []
    for piece in ordered:
        if lines and abs(lines[-1][0].y - piece.y) <= max(1.0, 0.35 * piece.size):
            lines[-1].append(piece)
        else:
            lines.append([piece])
    return [_row(sorted(line, key=lambda p: p.x0)) for line in lines]


def _row(line: list[Piece]) -> Row:
    words: list[_Word] = []
    size = max(p.size for p in line)
    previous: Piece | None = None
    for piece in line:
        if previous is not None:
            gap = piece.x0 - words[-1][2]
            if -OVERLAP * piece.size <= gap <= TOUCH * piece.size:
                text, x0, x1, starts_cell, inner = words[-1]
                inner.append((len(text), piece.x0))
                words[-1] = (text + piece.text, x0, max(piece.x1, x1), starts_cell, inner)
                previous = piece
                continue
            space = max(piece.space, previous.space) or 0.25 * piece.size
            words.append((piece.text, piece.x0, piece.x1, gap > CELL_GAP_SPACES * space, []))
        else:
            words.append((piece.text, piece.x0, piece.x1, True, []))
        previous = piece
    return _row_of(words, size)
