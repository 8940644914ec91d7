"""How alike a name typed in the expense system is to a statement cardholder's name, 0 to 100.

People type their names many ways: `Jane Q. Doe`, `Doe, Jane`, `J. Doe`, `Jane Doe Jr.`, `José`
for the statement's `JOSE`, `Bob` for `ROBERT`; statements print `JANEDOE` or `JANE DOE`. The
typed name is cut into words (accents folded, punctuation and suffixes dropped) and the words are
looked for in the cardholder's letters: the share of the cardholder's letters the typed words
cover is most of the score, so a middle name or initial typed but not printed costs little, and an
order swapped costs nothing.
"""

from __future__ import annotations

import re
import unicodedata

from rapidfuzz import fuzz

# Words that say nothing about who a person is: generational suffixes and titles.
SUFFIXES = frozenset({"JR", "SR", "II", "III", "IV", "MR", "MRS", "MS", "MX", "DR"})
# Common English short forms of first names, short form → the names it stands for.
NICKNAMES: dict[str, tuple[str, ...]] = {
    "BOB": ("ROBERT",), "BOBBY": ("ROBERT",), "ROB": ("ROBERT",), "BILL": ("WILLIAM",),
    "BILLY": ("WILLIAM",), "WILL": ("WILLIAM",), "LIZ": ("ELIZABETH",), "BETH": ("ELIZABETH",),
    "MIKE": ("MICHAEL",), "JIM": ("JAMES",), "JIMMY": ("JAMES",), "TOM": ("THOMAS",),
    "PAT": ("PATRICIA", "PATRICK"), "STEVE": ("STEVEN", "STEPHEN"), "RAY": ("RAYMOND",),
    "DENNY": ("DENNIS",), "DICK": ("RICHARD",), "RICK": ("RICHARD",), "RICH": ("RICHARD",),
    "DAVE": ("DAVID",), "DAN": ("DANIEL",), "DANNY": ("DANIEL",), "JOE": ("JOSEPH",),
    "TONY": ("ANTHONY",), "KATE": ("KATHERINE", "CATHERINE"), "KATIE": ("KATHERINE",),
    "CHUCK": ("CHARLES",), "CHARLIE": ("CHARLES",), "PEGGY": ("MARGARET",), "MAGGIE": ("MARGARET",),
    "JENNY": ("JENNIFER",), "JEN": ("JENNIFER",), "SUE": ("SUSAN",), "TED": ("EDWARD", "THEODORE"),
    "ED": ("EDWARD",), "NICK": ("NICHOLAS",), "ALEX": ("ALEXANDER", "ALEXANDRA"), "SAM": ("SAMUEL",),
    "ANDY": ("ANDREW",), "GREG": ("GREGORY",), "LARRY": ("LAWRENCE",), "JERRY": ("GERALD",),
    "HANK": ("HENRY",), "HARRY": ("HENRY",), "FRANK": ("FRANCIS",), "CHRIS": ("CHRISTOPHER",),
    "MATT": ("MATTHEW",), "BEN": ("BENJAMIN",), "TERRY": ("TERRENCE",), "PEG": ("MARGARET",),
}  # fmt: skip
_APOSTROPHES = re.compile(r"['\u2019`\u00b4]")  # apostrophes as typed, curly and accent-like too
_NOT_LETTERS = re.compile(r"[^A-Z]+")


def fold(text: str) -> str:
    """Upper case without accents: `José` → `JOSE`."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch)).upper()


def words(name: str) -> list[str]:
    """The words of a name, accents folded, apostrophes joined (`O'Neil` → `ONEIL`), suffixes and
    titles dropped (`Jr.`, `III`, `Dr`)."""
    cut = _NOT_LETTERS.split(_APOSTROPHES.sub("", fold(name)))
    return [w for w in cut if w and w not in SUFFIXES]


def _take(letters: list[str], word: str, *, at_start: bool = False) -> int:
    """Mark `word` used in `letters` where it first appears (at the start of a part not yet used,
    when asked); the letters taken (0: not there)."""
    text = "".join(letters)
    start = 0
    while (at := text.find(word, start)) >= 0:
        if not at_start or at == 0 or text[at - 1] == "#":
            letters[at : at + len(word)] = ["#"] * len(word)
            return len(word)
        start = at + 1
    return 0


def name_similarity(typed: str, cardholder: str) -> float:
    """0 to 100: how well the typed name's words account for the cardholder's letters."""
    typed_words = words(typed)
    holder = "".join(words(cardholder))
    if not typed_words or not holder:
        return 0.0
    letters = list(holder)
    covered = 0.0
    typed_letters = sum(len(w) for w in typed_words if len(w) > 1)
    found = 0
    initials = [w for w in typed_words if len(w) == 1]
    for word in sorted((w for w in typed_words if len(w) > 1), key=len, reverse=True):
        taken = _take(letters, word)
        if not taken:
            # A short form for a printed first name (`Bob` for `ROBERT`) counts nearly in full.
            for full in NICKNAMES.get(word, ()):
                if taken := _take(letters, full, at_start=True):
                    taken = round(taken * 0.9)
                    break
        if not taken:
            # A word the statement printed cut short (`SMITHER` for `Smithers`), or the reverse.
            for size in range(len(word) - 1, 2, -1):
                if taken := _take(letters, word[:size], at_start=True):
                    taken = round(taken * 0.8)
                    break
        if taken:
            found += len(word)
            covered += taken
    for initial in initials:
        covered += _take(letters, initial, at_start=True)  # an initial: one letter, at a part's start
    coverage = min(1.0, covered / len(holder))
    precision = found / typed_letters if typed_letters else 0.0
    # Tie-breaker: the letters as typed, in either order, against the cardholder's.
    alike = max(fuzz.ratio("".join(o), holder) for o in (typed_words, typed_words[::-1])) / 100
    return round(100 * (0.7 * coverage + 0.15 * precision + 0.15 * alike), 1)
