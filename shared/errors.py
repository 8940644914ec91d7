"""Errors of the product, one tree, each carrying a one-line message a person can act on.

Every error the product raises on purpose is defined here, and `PROBLEMS` says what each code means to a
clerk, in a sentence they can act on (the message stays the technical detail). What a runtime does with
one is decided at its edge: the HTTP status of each (`shared.http.errors.status_of`), a retry or a
verdict on the file in the pipeline's steps (permanent: mark the item failed; transient: retry with
backoff).

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
│   ├── LayoutError             a statement layout definition is invalid
│   ├── FileTooLargeError       an upload larger than a file may be (through an upload URL)
│   ├── TooManyDocumentsError   two statements (or two receipts reports) given to one run
│   ├── AliasError              an alias that cannot be stored as asked
│   ├── MissingReceiptError     no receipt PDF of that name
│   ├── BadMessageError         a queue message that names no session
│   └── RequestError            a request that cannot be served as asked
│       ├── UnknownSessionError     (also another tenant's session: it does not exist for you)
│       ├── UnknownAliasError
│       ├── WrongStateError
│       ├── TooLargeError
│       ├── NotPdfUploadError
│       ├── BadNameError
│       ├── BadFileNameError
│       ├── BadContentLengthError
│       ├── BadUploadIdError
│       ├── QuotaError              more than a tenant or a session may hold
│       └── ClientGoneError
├── ConflictError               a conditional write lost its race (too often)
├── NotFoundError               a blob or queue that should be there is not
├── TransientError              storage or network trouble: retry with backoff
│   └── StorageUnavailableError
├── SandboxCrashError           extraction failed through a fault of ours, not the file's:
│                               retried like any unforeseen failure, never a verdict on the file
├── ApiError                    `ccproc submit`: the API answered with an error
├── UsageError                  a command-line argument that cannot be used (a missing file)
├── LocalStackError             `ccproc dev`: Azurite or the local API would not start
└── AbandonedError              a stream read after its writer gave up (stops the reader)
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


class FileTooLargeError(PermanentError):
    """An uploaded file larger than `MAX_FILE_BYTES`: refused before it is downloaded."""

    code = "file_too_large"


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


class TooManyDocumentsError(PermanentError):
    """More than one statement, or more than one receipts report, was given."""

    code = "too_many_documents"


class AliasError(PermanentError):
    """An alias that cannot be stored as asked."""

    code = "invalid_alias"


class MissingReceiptError(PermanentError):
    """No receipt PDF of that name in the session."""

    code = "unknown_receipt"


class BadMessageError(PermanentError):
    """A queue message that cannot be read: it names no session."""

    code = "bad_message"


# -- requests (their HTTP status is decided at the HTTP edge, `shared.http.errors`) ----------
class RequestError(PermanentError):
    """A request that cannot be served as asked."""

    code = "bad_request"


class UnknownSessionError(RequestError):
    """No session has that id (or it is another tenant's: the same answer)."""

    code = "unknown_session"


class UnknownAliasError(RequestError):
    """No alias has that name."""

    code = "unknown_alias"


class WrongStateError(RequestError):
    """The session's state does not allow this now."""

    code = "wrong_state"


class TooLargeError(RequestError):
    """The body is larger than a direct upload may be."""

    code = "too_large"


class NotPdfUploadError(RequestError):
    """The uploaded bytes are not a PDF."""

    code = "not_pdf"


class BadNameError(RequestError):
    """A session name that is empty or too long once trimmed."""

    code = "bad_name"


class BadFileNameError(RequestError):
    """A file name too long to be a real one."""

    code = "bad_file_name"


class BadContentLengthError(RequestError):
    """The Content-Length header is not a number."""

    code = "bad_content_length"


class BadUploadIdError(RequestError):
    """An upload id (the Idempotency-Key header) that is not 8 to 100 letters, digits or `_.:-`."""

    code = "bad_upload_id"


class QuotaError(RequestError):
    """More than a session or a tenant may hold: files per session, sessions per tenant."""

    code = "quota"


class StorageQuotaError(TooLargeError):
    """The file would take a tenant's sessions past the bytes they may hold in storage."""

    code = "storage_quota"


class BadPageTokenError(RequestError):
    """A page token (`next` of a listing) that no listing gave."""

    code = "bad_page_token"


class ClientGoneError(RequestError):
    """The client closed the connection before its body had arrived."""

    code = "client_disconnected"


# -- storage ---------------------------------------------------------------------------------
class ConflictError(CcprocError):
    """A conditional write lost a race: the blob changed (or exists) since it was read."""

    code = "conflict"


class NotFoundError(CcprocError):
    """The blob or queue asked for does not exist."""

    code = "not_found"


class StorageUnavailableError(TransientError):
    """The storage service could not be reached or answered with a server error."""

    code = "storage_unavailable"


# -- runtimes' own -----------------------------------------------------------------------------
class ApiError(CcprocError):
    """The API answered with an error (its JSON message is shown)."""

    code = "api_error"


class UsageError(CcprocError):
    """A command-line argument that cannot be used: a file that is not there, a folder that cannot
    be written."""

    code = "usage"


class LocalStackError(CcprocError):
    """The local stack (Azurite, the API) did not start."""

    code = "local_stack"


class AbandonedError(CcprocError):
    """A stream's writer gave up: the reader stops instead of waiting for bytes that never come."""

    code = "abandoned"

    def __init__(self, message: str = "the writer gave up") -> None:
        super().__init__(message)


class UnknownTransactionError(UnknownSessionError):
    """The session's reconciliation has no transaction of that number (a 404, like an unknown session)."""

    code = "unknown_transaction"


class DuplicateFileError(WrongStateError):
    """The very file (same SHA-256) is already in another session of the caller's: it names that one."""

    code = "duplicate_file"

    def __init__(self, message: str, *, session_id: str, session_name: str | None) -> None:
        super().__init__(message)
        self.session_id, self.session_name = session_id, session_name


class NoChangesError(UnknownSessionError):
    """The session was finalized only once: there is no earlier reconciliation to compare with."""

    code = "no_changes"


# -- in a clerk's words --------------------------------------------------------------------------
# What each code means to the person who sent the file or made the request, and what they can do about
# it: one sentence or two, no jargon. The API shows it as `problem` beside the technical `error`
# (`shared.sessions.requests.file_view`). Every code the product sets has one (tests/test_plain_errors.py
# enumerates them); `orphaned_upload` is set by the storage sweep, not by an exception.
_AGAIN_OR_ADMIN = "Upload it again; if it fails again, tell your administrator."
_RELOAD = "Reload the page and try again."
_STORAGE = "The storage service did not answer. Wait a minute and try again."
PROBLEMS: dict[str, str] = {
    "error": f"Something went wrong. {_RELOAD}",
    "permanent": f"This file could not be processed. {_AGAIN_OR_ADMIN}",
    "not_pdf": "This file is not a PDF. Upload the statement downloaded from the card portal or the receipts "
    "report from the expense system, as PDF files.",
    "damaged_pdf": "This PDF is damaged or incomplete, so it cannot be opened. Download it again and upload "
    "the new copy.",
    "encrypted_pdf": "This PDF is password-protected. Download it again without a password, or remove the "
    "password, and upload it.",
    "wrong_password": "The password given does not open this PDF. Give the right password, or upload a copy "
    "saved without one.",
    "image_only_pdf": "This PDF is a scan: it holds pictures of pages but no text to read. Download the "
    "report as a PDF from the card portal or the expense system (not a scan) and upload that.",
    "unrecognised_document": "This PDF is neither a Cardholder Activity Report nor a Receipt Images Report. "
    "Upload the statement downloaded from the card portal or the receipts report from the expense system.",
    "extraction_failed": f"This PDF could not be read, even after several tries. {_AGAIN_OR_ADMIN}",
    "resource_limit": "Reading this PDF took more time or memory than one file may use. Check that it is one "
    "month's report, not several, and upload it again; if it fails again, tell your administrator.",
    "file_too_large": "This file is larger than a file may be. Check that it is one month's report; if it "
    "is, ask your administrator to raise the limit.",
    "invalid_layout": "This statement could not be read because the product's description of its layout is "
    "broken. Tell your administrator; the file itself may be fine.",
    "transient": _STORAGE,
    "storage_unavailable": _STORAGE,
    "sandbox_crash": "Reading this PDF failed because of a fault on our side, not in the file. "
    + _AGAIN_OR_ADMIN,
    "orphaned_upload": "This file's upload never finished. Remove it and upload the file again.",
    "too_many_documents": "More than one statement, or more than one receipts report, was given. Keep one of "
    "each and try again.",
    "invalid_alias": "That alias cannot be saved as it is. Check the name and the cardholder it belongs to.",
    "unknown_receipt": f"That receipt PDF is not in this session. {_RELOAD}",
    "bad_message": "A message between the product's steps named no session. Tell your administrator.",
    "bad_request": f"The request could not be served as asked. {_RELOAD}",
    "unknown_session": "This session does not exist, or is not yours. Go back to the list of sessions.",
    "unknown_alias": "There is no such alias. Reload the aliases page.",
    "wrong_state": "The session cannot do that now. Wait until it has finished what it is doing, then try "
    "again.",
    "too_large": "This file is too large to send in one request. Upload it from the page, which sends large "
    "files in parts.",
    "bad_name": "The session name is empty or too long. Type a name of a few words.",
    "bad_file_name": "The file's name is too long. Rename the file to something shorter and upload it again.",
    "bad_content_length": "The upload was sent with a wrong size. Upload the file again.",
    "bad_upload_id": "The upload could not be told apart from others. Upload the file again.",
    "quota": "The session holds as many files, or you hold as many sessions, as allowed. Remove a file or "
    "delete a session you no longer need, then try again.",
    "storage_quota": "Your sessions hold as much data as allowed. Delete sessions you no longer need, then "
    "upload again.",
    "bad_page_token": "The list of sessions changed while you were paging through it. Reload the page.",
    "client_disconnected": "The connection closed before the whole file arrived. Upload it again.",
    "conflict": f"Someone changed this at the same moment. {_RELOAD}",
    "not_found": "Something this session needs is missing from storage. Reload the page; if it is still "
    "missing, start a new session with the same files.",
    "api_error": "The server answered with an error. Read its message, then try again.",
    "usage": "A file or folder given to the command cannot be used. Check its path and try again.",
    "local_stack": "The local service could not start. Check that nothing else uses its port and try again.",
    "abandoned": "The upload was given up before it finished. Upload the file again.",
    "unknown_transaction": f"This session has no such transaction. {_RELOAD}",
    "duplicate_file": "This very file is already in another of your sessions. Open that session, or add the "
    "file here anyway.",
    "no_changes": "This session was reconciled only once, so there is nothing to compare it with yet.",
}


def problem_of(code: str | None) -> str | None:
    """The sentence a clerk reads for an error code (a code without one of its own gets the general
    one); None for no code."""
    if code is None:
        return None
    return PROBLEMS.get(code, PROBLEMS["error"])
