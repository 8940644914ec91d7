"""SDK errors of Azure Storage turned into the gateway's own (`shared.errors`)."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from azure.core.exceptions import (
    HttpResponseError,
    ResourceExistsError,
    ResourceModifiedError,
    ResourceNotFoundError,
    ServiceRequestError,
    ServiceResponseError,
)

from shared.errors import ConflictError, NotFoundError, StorageUnavailableError


@contextlib.contextmanager
def mapped_errors(what: str) -> Iterator[None]:
    """Turn an SDK error raised inside the block into the gateway's error for `what`."""
    try:
        yield
    except ResourceNotFoundError as exc:
        raise NotFoundError(f"{what}: not found") from exc
    except (ResourceExistsError, ResourceModifiedError) as exc:
        raise ConflictError(f"{what}: changed or exists since it was read") from exc
    except (ServiceRequestError, ServiceResponseError) as exc:
        raise StorageUnavailableError(f"{what}: storage unreachable ({exc.message})") from exc
    except HttpResponseError as exc:
        if exc.status_code == 412:
            raise ConflictError(f"{what}: changed since it was read") from exc
        if getattr(exc, "error_code", None) == "PopReceiptMismatch":
            # Another consumer took the message over (its visibility lapsed): no longer ours.
            raise ConflictError(f"{what}: the message was taken over") from exc
        if exc.status_code is not None and exc.status_code >= 500:
            raise StorageUnavailableError(f"{what}: storage error {exc.status_code}") from exc
        raise
