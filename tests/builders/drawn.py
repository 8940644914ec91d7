"""Read back how a PDF page draws its text: its text objects, and the strings and moves inside them.

The builders' producer styles differ only in this (one object per cell, per line, per word, or a
padded Courier string); tests and golden-case checks use it to prove each style is drawn as named.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pypdf import PdfReader
from pypdf.generic import ContentStream

MOVES = {"Td", "TD", "Tm", "T*"}


@dataclass
class TextObject:
    """One ``BT .. ET``: its strings in order, the font resource and size each is drawn in, where it starts
    (the text line matrix's translation: the builders never scale or rotate text), the positioning
    operators, and the x, y of its first ``Tm`` or ``Td`` (the origin, for objects that start with one)."""

    strings: list[str] = field(default_factory=list)
    moves: list[str] = field(default_factory=list)
    fonts: list[str] = field(default_factory=list)
    sizes: list[float] = field(default_factory=list)
    origin: tuple[float, float] | None = None
    at: list[tuple[float, float]] = field(default_factory=list)  # where each string starts


def text_objects(pdf: Path, page: int = 0) -> list[TextObject]:
    """The text objects of one (0-based) page that draw at least one string, in stream order."""
    reader = PdfReader(pdf)
    found: list[TextObject] = []
    current: TextObject | None = None
    font, size = "", 0.0  # they stay set across text objects (producers set them in an object of their own)
    x = y = 0.0
    for operands, raw in ContentStream(reader.pages[page].get_contents(), reader).operations:
        op = raw.decode("latin-1")
        if op == "Tf":
            font, size = str(operands[0]), float(operands[1])
        if op == "BT":
            current = TextObject()
            x = y = 0.0
        elif op == "ET":
            if current is not None and current.strings:
                found.append(current)
            current = None
        elif current is None:
            continue
        elif op in ("Tj", "TJ"):
            parts = (
                [operands[0]] if op == "Tj" else [p for p in operands[0] if not isinstance(p, int | float)]
            )
            current.strings.append("".join(_text(p) for p in parts))
            current.fonts.append(font)
            current.sizes.append(size)
            current.at.append((x, y))
        elif op in MOVES:
            current.moves.append(op)
            if op == "Tm":
                x, y = float(operands[4]), float(operands[5])
            elif op in ("Td", "TD"):
                x, y = x + float(operands[0]), y + float(operands[1])
            if current.origin is None and op in ("Tm", "Td"):
                current.origin = (float(operands[-2]), float(operands[-1]))
    return found


def _text(value: Any) -> str:
    return value.decode("cp1252") if isinstance(value, bytes) else str(value)


def base_fonts(pdf: Path, page: int = 0) -> dict[str, str]:
    """The page's font resource names and the base fonts they stand for (``/F1`` -> ``Helvetica``)."""
    resources: Any = PdfReader(pdf).pages[page]["/Resources"]
    fonts = resources.get_object().get("/Font", {})
    return {str(name): str(fonts[name].get_object()["/BaseFont"]).lstrip("/") for name in fonts}


def placed(pdf: Path, page: int = 0) -> list[tuple[float, float, str]]:
    """Every string of a page with where it starts, x and y rounded to 0.01 pt, in stream order."""
    return [
        (round(x, 2), round(y, 2), text)
        for obj in text_objects(pdf, page)
        for (x, y), text in zip(obj.at, obj.strings, strict=True)
    ]


def producer(pdf: Path) -> str:
    """The document information's Producer, or ``""``."""
    meta = PdfReader(pdf).metadata
    return str(meta.producer or "") if meta else ""
