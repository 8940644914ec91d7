"""Where a page prints its text: a content-stream interpreter for text positions.

pypdf's own text extraction hands over text in the chunks the producer happened to write, with
the position of each chunk's start only: a line written as one text object with positioning moves
between its cells, or as one string padded with spaces, arrives as one chunk. So the page's
operators are followed here (pypdf parses the content stream and describes each font: encoding,
Unicode map, glyph widths), and every string is measured with its font's widths, so each word's
x extent is known whatever the producer grouped. Images are never decoded: an image XObject is
skipped by its subtype, a form XObject is followed (to a bounded depth).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pypdf import PageObject, PdfReader
from pypdf.generic import ContentStream, DictionaryObject, IndirectObject, StreamObject
from pypdf.generic._font import Font  # pypdf's model of a font resource (encoding, widths)

from shared.pdf.rows import Piece

Matrix = tuple[float, float, float, float, float, float]
IDENTITY: Matrix = (1.0, 0.0, 0.0, 1.0, 0.0, 0.0)
# Form XObjects nest; a hostile file can nest them without end.
MAX_FORM_DEPTH = 6
_TWO_BYTE = ("utf-16-be", "utf16-be")


def _mult(m: Matrix, n: Matrix) -> Matrix:
    """m times n in PDF's row-vector convention (apply m, then n)."""
    a, b, c, d, e, f = m
    p, q, r, s, t, u = n
    return (a * p + b * r, a * q + b * s, c * p + d * r, c * q + d * s, e * p + f * r + t, e * q + f * s + u)


def _matrix(values: list[Any]) -> Matrix:
    a, b, c, d, e, f = (_num(v) for v in values)
    return (a, b, c, d, e, f)


def _num(value: Any, default: float = 0.0) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        return default


@dataclass(frozen=True, slots=True)
class FontMetrics:
    """What text positions need of a font: code → text, code → width (1/1000 em), bytes per code.

    A one-byte font whose space is byte 32 also gets `table` (for `str.translate`) and
    `table_widths` (a width per byte), so a string is decoded and measured without a Python loop.
    """

    texts: dict[int, str]
    widths: dict[int, float]
    default_width: float
    two_byte: bool
    space_code: int | None
    space_width: float
    table: dict[int, str] | None = None
    table_widths: tuple[float, ...] = ()

    @classmethod
    def of(cls, resource: Any) -> FontMetrics:
        """Read a font resource through pypdf's font model; a resource it cannot read gets defaults."""
        try:
            font = Font.from_font_resource(resource) if isinstance(resource, DictionaryObject) else None
        except Exception:  # noqa: BLE001 — a broken font must not cost the page's other text
            font = None
        if font is None:
            return _DEFAULT_FONT
        default = float(font.character_widths.get("default", 500) or 500)
        widths = {ord(k): float(v) for k, v in font.character_widths.items() if len(k) == 1}
        encoding = font.encoding
        two_byte = isinstance(encoding, str) and encoding.lower().replace("_", "-") in _TWO_BYTE
        cmap = font.character_map
        texts: dict[int, str] = {}
        if two_byte:
            texts = {ord(k): v for k, v in cmap.items() if isinstance(k, str) and len(k) == 1}
        else:
            for code in range(256):
                if isinstance(encoding, dict):
                    decoded = encoding.get(code, chr(code))
                else:
                    decoded = bytes([code]).decode(encoding or "latin-1", "replace")
                texts[code] = cmap.get(decoded, decoded)
        space_code = next((c for c, t in texts.items() if t == " "), None if two_byte else 32)
        space = widths.get(space_code, 0.0) if space_code is not None else 0.0
        space = space or float(font.space_width or 250)
        if two_byte or space_code != 32:
            return cls(texts, widths, default, two_byte, space_code, space)
        table = {code: text for code, text in texts.items() if text != chr(code)}
        table_widths = tuple(widths.get(code, default) for code in range(256))
        return cls(texts, widths, default, False, 32, space, table, table_widths)

    def codes(self, data: bytes) -> list[int]:
        """The character codes of a shown string."""
        if self.two_byte:
            return [int.from_bytes(data[i : i + 2], "big") for i in range(0, len(data) - 1, 2)]
        return list(data)


_DEFAULT_FONT = FontMetrics(
    {c: chr(c) for c in range(256)}, {}, 500.0, False, 32, 250.0, {}, tuple(500.0 for _ in range(256))
)


class _State:
    """The graphics and text state that positions glyphs."""

    __slots__ = ("ctm", "font", "size", "stack", "tc", "th", "tl", "tlm", "tm", "tw")

    def __init__(self, ctm: Matrix) -> None:
        self.ctm = ctm
        self.tm = IDENTITY
        self.tlm = IDENTITY
        self.font: FontMetrics = _DEFAULT_FONT
        self.size = 0.0
        self.tc = 0.0
        self.tw = 0.0
        self.th = 1.0
        self.tl = 0.0
        self.stack: list[tuple[Matrix, FontMetrics, float, float, float, float, float]] = []

    def push(self) -> None:
        self.stack.append((self.ctm, self.font, self.size, self.tc, self.tw, self.th, self.tl))

    def pop(self) -> None:
        if self.stack:
            self.ctm, self.font, self.size, self.tc, self.tw, self.th, self.tl = self.stack.pop()

    def move(self, tx: float, ty: float) -> None:
        self.tlm = (*self.tlm[:4], tx * self.tlm[0] + ty * self.tlm[2] + self.tlm[4],
                    tx * self.tlm[1] + ty * self.tlm[3] + self.tlm[5])  # fmt: skip
        self.tm = self.tlm


class PageTextReader:
    """Collects the `Piece`s a page prints, in content order."""

    def __init__(self, reader: PdfReader, fonts: dict[int, FontMetrics] | None = None) -> None:
        self.reader = reader
        self.pieces: list[Piece] = []
        # Font resources are shared by pages: keyed by object number, read once per document.
        self._fonts: dict[int, FontMetrics] = {} if fonts is None else fonts

    def read(self, page: PageObject) -> list[Piece]:
        """Every piece of text `page` draws."""
        contents = page.get_contents()
        if contents is not None:
            self._run(contents.operations, _resources(page.get("/Resources")), _State(IDENTITY), 0)
        return self.pieces

    # -- fonts ------------------------------------------------------------------------------
    def _font(self, resources: DictionaryObject, name: Any) -> FontMetrics:
        fonts = resources.get("/Font")
        fonts = fonts.get_object() if fonts is not None else None
        if not isinstance(fonts, DictionaryObject) or name not in fonts:
            return _DEFAULT_FONT
        ref = fonts.raw_get(name)
        key = ref.idnum if isinstance(ref, IndirectObject) else id(ref)
        if key not in self._fonts:
            self._fonts[key] = FontMetrics.of(ref.get_object())
        return self._fonts[key]

    # -- operators --------------------------------------------------------------------------
    def _run(
        self, operations: list[tuple[Any, bytes]], resources: DictionaryObject, st: _State, depth: int
    ) -> None:
        show = self._show
        for operands, op in operations:
            if op == b"Tj":
                if operands:
                    show(st, operands[0])
            elif op == b"Tm":
                if len(operands) == 6:
                    st.tm = st.tlm = _matrix(operands)
            elif op == b"Td":
                if len(operands) == 2:
                    st.move(_num(operands[0]), _num(operands[1]))
            elif op == b"TJ":
                if operands:
                    self._show_array(st, operands[0])
            elif op == b"Tf":
                if len(operands) == 2:
                    st.font, st.size = self._font(resources, operands[0]), _num(operands[1])
            elif op == b"BT":
                st.tm = st.tlm = IDENTITY
            elif op in (b"T*", b"'", b'"'):
                if op == b'"' and len(operands) == 3:
                    st.tw, st.tc = _num(operands[0]), _num(operands[1])
                st.move(0.0, -st.tl)
                if op != b"T*" and operands:
                    show(st, operands[-1])
            elif op == b"TD":
                if len(operands) == 2:
                    st.tl = -_num(operands[1])
                    st.move(_num(operands[0]), _num(operands[1]))
            elif op == b"q":
                st.push()
            elif op == b"Q":
                st.pop()
            elif op == b"cm":
                if len(operands) == 6:
                    st.ctm = _mult(_matrix(operands), st.ctm)
            elif op == b"Tc":
                st.tc = _num(operands[0]) if operands else 0.0
            elif op == b"Tw":
                st.tw = _num(operands[0]) if operands else 0.0
            elif op == b"Tz":
                st.th = _num(operands[0], 100.0) / 100.0 if operands else 1.0
            elif op == b"TL":
                st.tl = _num(operands[0]) if operands else 0.0
            elif op == b"Do" and operands and depth < MAX_FORM_DEPTH:
                self._form(resources, operands[0], st, depth)

    def _form(self, resources: DictionaryObject, name: Any, st: _State, depth: int) -> None:
        xobjects = resources.get("/XObject")
        xobjects = xobjects.get_object() if xobjects is not None else None
        if not isinstance(xobjects, DictionaryObject) or name not in xobjects:
            return
        form = xobjects[name]
        if not isinstance(form, StreamObject) or form.get("/Subtype") != "/Form":
            return  # an image: its bytes are never decoded
        matrix = form.get("/Matrix")
        ctm = st.ctm
        if isinstance(matrix, list) and len(matrix) == 6:
            ctm = _mult(_matrix(matrix), ctm)
        inner = _State(ctm)
        own = _resources(form.get("/Resources"))
        operations = ContentStream(form, self.reader).operations
        self._run(operations, own if own else resources, inner, depth + 1)

    # -- showing text -----------------------------------------------------------------------
    def _show(self, st: _State, data: Any) -> None:
        if isinstance(data, str):
            data = data.encode("latin-1", "replace")
        elif not isinstance(data, bytes):
            return
        self._emit(st, data)

    def _show_array(self, st: _State, items: Any) -> None:
        if not isinstance(items, list):
            return
        for item in items:
            if isinstance(item, (bytes, str)):
                self._show(st, item)
            else:
                # A number moves the next glyph left by thousandths of the font size.
                self._advance(st, -_num(item) / 1000.0 * st.size * st.th)

    def _advance(self, st: _State, distance: float) -> None:
        tm = st.tm
        st.tm = (tm[0], tm[1], tm[2], tm[3], tm[4] + distance * tm[0], tm[5] + distance * tm[1])

    def _emit(self, st: _State, data: bytes) -> None:
        """Measure a shown string, advance the text matrix past it, and record its words."""
        if not data:
            return
        font, size, th, tc = st.font, st.size, st.th, st.tc
        trm = _mult(st.tm, st.ctm)
        height = abs(size * (trm[3] or trm[1])) or size
        space = abs((font.space_width / 1000.0 * size + tc + st.tw) * th * trm[0])
        if font.table is not None:
            # A one-byte font: the string is split at its spaces and each part measured at once.
            widths, table, advance = font.table_widths, font.table, 0.0
            space_step = (widths[32] / 1000.0 * size + tc + st.tw) * th
            for index, part in enumerate(data.split(b" ")):
                if index:
                    advance += space_step
                if part:
                    width = (sum(map(widths.__getitem__, part)) / 1000.0 * size + tc * len(part)) * th
                    text = part.decode("latin-1").translate(table)
                    if text.strip():
                        self._piece(trm, (advance, advance + width), height, space, text.strip())
                    advance += width
        else:
            advance = self._emit_codes(st, font.codes(data), trm, height, space)
        self._advance(st, advance)

    def _emit_codes(self, st: _State, codes: list[int], trm: Matrix, height: float, space: float) -> float:
        """The general case (two-byte codes, or a font whose space is not byte 32), glyph by glyph."""
        font, size, th, tc, tw = st.font, st.size, st.th, st.tc, st.tw
        advance, start = 0.0, 0.0
        word: list[str] = []
        for code in codes:
            text = font.texts.get(code) or chr(code)
            step = (font.widths.get(code, font.default_width) / 1000.0 * size + tc) * th
            if code == font.space_code or text.isspace():
                step += tw * th
                if word:
                    self._piece(trm, (start, advance), height, space, "".join(word))
                    word = []
            else:
                if not word:
                    start = advance
                word.append(text)
            advance += step
        if word:
            self._piece(trm, (start, advance), height, space, "".join(word))
        return advance

    def _piece(self, trm: Matrix, span: tuple[float, float], size: float, space: float, text: str) -> None:
        start, end = span
        x0, x1 = trm[4] + start * trm[0], trm[4] + end * trm[0]
        if x1 < x0:
            x0, x1 = x1, x0
        self.pieces.append(Piece(x0, x1, trm[5] + start * trm[1], size, space, text))


def _resources(value: Any) -> DictionaryObject:
    value = value.get_object() if value is not None else None
    return value if isinstance(value, DictionaryObject) else DictionaryObject()


def page_pieces(
    reader: PdfReader, page: PageObject, fonts: dict[int, FontMetrics] | None = None
) -> list[Piece]:
    """The pieces of text `page` prints, in content order (`fonts`: a cache kept across pages)."""
    return PageTextReader(reader, fonts).read(page)
