"""Errors of the product, one tree, each carrying a one-line message a person can act on.

CcprocError
├── PermanentError              the input itself is bad: mark the item failed, never retry
│   ├── NotAPdfError
│   ├── DamagedPdfError
│   ├── EncryptedPdfError
│   │   └── WrongPasswordError
│   ├── ImageOnlyPdfError
│   ├── UnrecognisedDocumentError
│   ├── ExtractionGaveUpError   an unforeseen failure on every try: set aside
│   ├── ResourceLimitError      reading the file broke a CPU, memory or time limit (hostile?)
│   └── LayoutError             a statement layout definition is invalid
├── TransientError              storage or network trouble: retry with backoff
└── SandboxCrashError           extraction failed through a fault of ours, not the file's:
                                retried like any unforeseen failure, never a verdict on the file
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


class ResourceLimitError(PermanentError):
    """Reading the PDF needed more CPU time, memory or wall time than one file is allowed."""

    code = "resource_limit"


class LayoutError(PermanentError):
    """A statement layout definition is invalid."""

    code = "invalid_layout"


class TransientError(CcprocError):
    """A storage or network step failed in a way that may succeed when retried."""

    code = "transient"


class SandboxCrashError(CcprocError):
    """The extraction process failed through a fault of ours (a bug), not the file's; `details`
    holds the child's traceback, card numbers masked."""

    code = "sandbox_crash"

    def __init__(self, message: str, details: str = "") -> None:
        super().__init__(message)
        self.details = details
