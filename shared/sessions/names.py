"""Names people give: a session's name and an uploaded file's name, cleaned before they are stored.

A file name becomes one segment of a blob name, so it must never name another folder, and it may
end up as a downloaded file on someone's disk; neither kind of name may carry a card number.
"""

from __future__ import annotations

import re

from shared.errors import BadFileNameError, BadNameError
from shared.values import mask_card_numbers, without_invisibles

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")
MAX_SESSION_NAME = 120
# A longer file name is refused rather than cut: no file system names a real file so, and 255 is
# what the common ones allow. Stored names are cut to STORED_NAME (suffix kept).
MAX_FILE_NAME = 255
STORED_NAME = 100
_SUFFIX = 10  # the longest part after the last dot still treated as an extension when cutting
# Device names Windows will not create a file under, whatever the extension (`CON.pdf` included):
# a stored name may end up as a downloaded file on someone's Windows disk.
_WINDOWS_DEVICES = re.compile(r"^(CON|PRN|AUX|NUL|COM[0-9]|LPT[0-9])$", re.IGNORECASE)


def session_name(name: str | None) -> str | None:
    """`name` trimmed, control and invisible characters removed, card numbers masked; None stays None."""
    if name is None:
        return None
    cleaned = mask_card_numbers(" ".join(without_invisibles(name).split()))
    if not cleaned or len(cleaned) > MAX_SESSION_NAME:
        raise BadNameError(f"a session name has 1 to {MAX_SESSION_NAME} characters")
    return cleaned


def safe_name(filename: str) -> str:
    """A file name fit for one blob name segment: masked card numbers, ASCII letters, digits and ._-
    only, neither starting nor ending with a dot, no Windows device name, at most STORED_NAME long.

    Path parts (`../`, `\\`, `/`), control characters and any other character (RTL overrides
    included) become `_`, so the result never names another folder. A name over MAX_FILE_NAME
    characters is refused (BadFileNameError).
    """
    if len(filename) > MAX_FILE_NAME:
        raise BadFileNameError(f"a file name has at most {MAX_FILE_NAME} characters")
    name = _UNSAFE.sub("_", mask_card_numbers(filename).replace("*", "x")).strip("._")
    first, dot, rest = name.partition(".")
    if _WINDOWS_DEVICES.match(first):
        name = f"{first}_{dot}{rest}"
    if len(name) > STORED_NAME:
        stem, dot, suffix = name.rpartition(".")
        if dot and len(suffix) <= _SUFFIX:
            name = f"{stem[: STORED_NAME - len(suffix) - 1].rstrip('._')}.{suffix}"
        else:
            name = name[:STORED_NAME].rstrip("._")
    return name or "document.pdf"
