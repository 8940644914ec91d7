"""Where text is printed, however the producer wrote it: the content-stream interpreter and the rows,
words and cells rebuilt from its positions."""

from __future__ import annotations

from pathlib import Path

import pypdf
import pytest
from pypdf.generic import ArrayObject, DecodedStreamObject, DictionaryObject, FloatObject, NameObject

from shared.pdf.read import PdfSource
from shared.pdf.rows import Piece, Row, rows_from_pieces
from shared.pdf.text import page_pieces

HELVETICA_SPACE = 0.278  # em
COURIER = 0.6  # every Courier glyph is 0.6 em wide


def _font(base: str) -> DictionaryObject:
    return DictionaryObject(
        {
            NameObject("/Type"): NameObject("/Font"),
            NameObject("/Subtype"): NameObject("/Type1"),
            NameObject("/BaseFont"): NameObject(base),
            NameObject("/Encoding"): NameObject("/WinAnsiEncoding"),
        }
    )


def raw_pdf(
    path: Path, content: str, form: str | None = None, matrix: tuple[float, ...] | None = None
) -> Path:
    """A one-page PDF whose content stream is `content` (fonts /H Helvetica, /C Courier); `form`
    is the content of a form XObject /Fm placed with `matrix`."""
    writer = pypdf.PdfWriter()
    page = writer.add_blank_page(612, 792)
    fonts = DictionaryObject(
        {
            NameObject("/H"): writer._add_object(_font("/Helvetica")),
            NameObject("/C"): writer._add_object(_font("/Courier")),
        }
    )
    resources = DictionaryObject({NameObject("/Font"): fonts})
    if form is not None:
        xobject = DecodedStreamObject()
        xobject.set_data(form.encode("latin-1"))
        xobject.update(
            {
                NameObject("/Type"): NameObject("/XObject"),
                NameObject("/Subtype"): NameObject("/Form"),
                NameObject("/BBox"): ArrayObject([FloatObject(v) for v in (0, 0, 612, 792)]),
                NameObject("/Resources"): DictionaryObject({NameObject("/Font"): fonts}),
            }
        )
        if matrix:
            xobject[NameObject("/Matrix")] = ArrayObject([FloatObject(v) for v in matrix])
        resources[NameObject("/XObject")] = DictionaryObject({NameObject("/Fm"): writer._add_object(xobject)})
    page[NameObject("/Resources")] = resources
    stream = DecodedStreamObject()
    stream.set_data(content.encode("latin-1"))
    page[NameObject("/Contents")] = writer._add_object(stream)
    with path.open("wb") as handle:
        writer.write(handle)
    return path


def rows_of(path: Path) -> tuple[Row, ...]:
    with PdfSource(path) as source:
        return source.page(0).rows()


def cells(row: Row) -> list[tuple[str, float]]:
    return [(c.text, round(c.x0, 1)) for c in row.cells()]


def test_cells_placed_by_td_inside_one_text_object(tmp_path: Path) -> None:
    """One BT..ET per line, cells placed by relative Td moves: each cell where the moves put it."""
    content = (
        "BT /H 10 Tf 50 700 Td (GASMART #0042) Tj 120 0 Td (NEW CORVIDHAVEN, TX) Tj 150 0 Td (FUEL) Tj ET"
    )
    (row,) = rows_of(raw_pdf(tmp_path / "td.pdf", content))
    assert cells(row) == [("GASMART #0042", 50.0), ("NEW CORVIDHAVEN, TX", 170.0), ("FUEL", 320.0)]


def test_cells_placed_by_tm_matrices(tmp_path: Path) -> None:
    """Absolute Tm matrices between the Tj's of one text object, scaled by the CTM."""
    content = (
        "q 2 0 0 2 0 0 cm BT /H 5 Tf 1 0 0 1 25 350 Tm (Job) Tj 1 0 0 1 90 350 Tm (55867. Tank Farm) Tj ET Q"
    )
    (row,) = rows_of(raw_pdf(tmp_path / "tm.pdf", content))
    assert cells(row) == [("Job", 50.0), ("55867. Tank Farm", 180.0)]
    assert row.size == pytest.approx(10.0)


def test_fixed_width_string_is_cut_at_runs_of_spaces(tmp_path: Path) -> None:
    """One Courier string: single spaces stay inside a cell, runs of spaces separate cells, and every
    word sits at its character position."""
    line = "2909564        Felix F. Thorne                Fuel"
    (row,) = rows_of(raw_pdf(tmp_path / "padded.pdf", f"BT /C 10 Tf 40 700 Td ({line}) Tj ET"))
    step = COURIER * 10
    assert cells(row) == [
        ("2909564", 40.0),
        ("Felix F. Thorne", round(40 + line.index("Felix") * step, 1)),
        ("Fuel", round(40 + line.index("Fuel") * step, 1)),
    ]


def test_tj_kerning_joins_and_word_gaps_split(tmp_path: Path) -> None:
    """TJ: small adjustments are kerning inside a word; a large one is a gap between words."""
    content = "BT /H 10 Tf 50 700 Td [(WID) -20 (GET) 30 (WORKS) -300 (LUMBER) -2000 (TX)] TJ ET"
    (row,) = rows_of(raw_pdf(tmp_path / "tj.pdf", content))
    assert row.text == "WIDGETWORKS LUMBER TX"
    assert [c.text for c in row.cells()] == ["WIDGETWORKS LUMBER", "TX"]


def test_one_glyph_per_text_object_reads_as_words(tmp_path: Path) -> None:
    """A producer that places every glyph on its own: touching glyphs join into one word."""
    x, parts = 100.0, []
    widths = {"F": 0.611, "U": 0.722, "E": 0.667, "L": 0.556}
    for char in "FUEL":
        parts.append(f"BT /H 10 Tf {x:.3f} 700 Td ({char}) Tj ET")
        x += widths[char] * 10
    (row,) = rows_of(raw_pdf(tmp_path / "glyphs.pdf", " ".join(parts)))
    assert cells(row) == [("FUEL", 100.0)]


def test_character_and_word_spacing_and_scaling_move_the_next_cell(tmp_path: Path) -> None:
    """Tc, Tw and Tz widen what is shown, so a cell after it begins further right."""
    content = "BT /C 10 Tf 2 Tc 5 Tw 50 Tz 0 700 Td (AB CD) Tj (EF) Tj ET"
    (row,) = rows_of(raw_pdf(tmp_path / "spacing.pdf", content))
    # each glyph (6 + 2) * 0.5, the space (6 + 2 + 5) * 0.5: "AB" 8, space 6.5, "CD" 8 -> "EF" at 22.5
    assert [(w, round(row.x0s[i], 2)) for i, w in enumerate(row.text.split())] == [
        ("AB", 0.0),
        ("CDEF", 14.5),
    ]
    assert row.x1s[-1] == pytest.approx(30.5)


def test_form_xobject_text_is_read_where_its_matrix_puts_it(tmp_path: Path) -> None:
    """Print drivers wrap a page in a form XObject: its text is read, moved by its /Matrix."""
    pdf = raw_pdf(
        tmp_path / "form.pdf",
        "q 1 0 0 1 0 100 cm /Fm Do Q",
        form="BT /H 10 Tf 50 500 Td (Amount :) Tj 100 0 Td (54.14) Tj ET",
        matrix=(1, 0, 0, 1, 10, 0),
    )
    (row,) = rows_of(pdf)
    assert cells(row) == [("Amount :", 60.0), ("54.14", 160.0)]
    with pypdf.PdfReader(pdf) as reader:
        assert {p.y for p in page_pieces(reader, reader.pages[0])} == {600.0}


def test_overlapping_cells_stay_apart(tmp_path: Path) -> None:
    """A full-width merchant drawn over the city's first letter: two words, never one glued word."""
    content = "BT /H 7 Tf 176 700 Td (WIDGETWORKS LUMBER) Tj ET BT /H 7 Tf 240 700 Td (FALLOWCREST, TX) Tj ET"
    (row,) = rows_of(raw_pdf(tmp_path / "overlap.pdf", content))
    assert row.text == "WIDGETWORKS LUMBER FALLOWCREST, TX"
    assert row.split_at([240.0]) is row


def test_split_at_cuts_a_fixed_width_word_at_its_column(tmp_path: Path) -> None:
    """An 18-character merchant running into the city in a Courier line is cut where the city
    column begins; a column where a word already begins is left alone."""
    line = "000111003  WIDGETWORKS LUMBERFALLOWCREST, TX  MISC"
    (row,) = rows_of(raw_pdf(tmp_path / "glued.pdf", f"BT /C 7 Tf 20 700 Td ({line}) Tj ET"))
    step = COURIER * 7
    city_x = 20 + line.index("FALLOWCREST") * step
    misc_x = 20 + line.index("MISC") * step
    split = row.split_at([city_x, misc_x])
    assert split.text == "000111003 WIDGETWORKS LUMBER FALLOWCREST, TX MISC"
    assert split.x0s[3] == pytest.approx(city_x)
    assert split.column_start(split.text.index("WIDGET"), split.text.index(","), city_x) == split.text.index(
        "FALLOW"
    )


def test_split_at_prefers_where_two_drawn_texts_touch() -> None:
    """In a proportional font a glued word is cut where its two drawn texts met, not by an estimate."""
    pieces = [
        Piece(176.0, 253.2, 700.0, 7.0, 1.9, "BAYOU"),
        Piece(253.2, 300.0, 700.0, 7.0, 1.9, "LAKEVILLE,"),
    ]
    (row,) = rows_from_pieces(pieces)
    assert row.text == "BAYOULAKEVILLE,"
    assert row.split_at([253.0]).text == "BAYOU LAKEVILLE,"


def test_rows_by_baseline_and_cells_by_gap() -> None:
    """Pieces on one baseline form a row, left to right; a gap over 1.5 spaces starts a cell."""
    space = HELVETICA_SPACE * 9
    pieces = [
        Piece(200.0, 230.0, 600.3, 9.0, space, "Doe"),
        Piece(36.0, 60.0, 600.0, 9.0, space, "1234567"),
        Piece(100.0, 120.0, 600.0, 9.0, space, "Jane"),
        Piece(120.0 + space, 130.0 + space, 600.0, 9.0, space, "Q."),
        Piece(36.0, 80.0, 700.0, 9.0, space, "first"),
    ]
    first, second = rows_from_pieces(pieces)
    assert first.text == "first"
    assert [c.text for c in second.cells()] == ["1234567", "Jane Q.", "Doe"]
