"""Errors of the product, one tree, each carrying a one-line message a person can act on.

CcprocError
├── PermanentError              the input itself is bad: mark the item failed, never retry
│   ├── NotAPdfError
│   ├── DamagedPdfError
│   ├── EncryptedPdfError
│   │   └── WrongPasswordError
│   ├── ImageOnlyPdfError
│   ├── UnrecognisedDocumentError
│   └── LayoutError             a statement layout definition is invalid
└── TransientError              storage or network trouble: retry with backoff
"""

from __future__ import annotations


class CcprocError(Exception):
    """Base of every error the product raises on purpose."""

    code = "error"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


class PermanentError(CcprocError):
    """The input cannot be processed as it is; retrying will not help."""

    code = "permanent"


class NotAPdfError(PermanentError):
    """The file does not start like a PDF."""

    code = "not_pdf"


class DamagedPdfError(PermanentError):
    """The file looks like a PDF but cannot be read (truncated, corrupt or hostile)."""

    code = "damaged_pdf"


class EncryptedPdfError(PermanentError):
    """The PDF is encrypted and no password was given."""

    code = "encrypted_pdf"


class WrongPasswordError(EncryptedPdfError):
    """The PDF is encrypted and the given password does not open it."""

    code = "wrong_password"


class ImageOnlyPdfError(PermanentError):
    """The PDF has no text layer: only OCR could read it."""

    code = "image_only_pdf"


class UnrecognisedDocumentError(PermanentError):
    """The PDF reads, but is neither a known statement layout nor a receipts report."""

    code = "unrecognised_document"


class ExtractionGaveUpError(PermanentError):
    """Extraction failed in an unforeseen way on every try; the file is set aside, not retried."""

    code = "extraction_failed"


class LayoutError(PermanentError):
    """A statement layout definition is invalid."""

    code = "invalid_layout"


class TransientError(CcprocError):
    """A storage or network step failed in a way that may succeed when retried."""

    code = "transient"
