"""Errors only the service raises, and the one place that gives every Clearline error its
HTTP status and error code (the API's error body and the CLI's `--json` error use it)."""

from control.errors import BadRequest, ConfigurationError, Conflict, NotFound, Unauthorized
from knowledge.errors import ClearlineError, DocumentNotFound


class Forbidden(ClearlineError):
    """The key is valid but its role may not do this."""


class PayloadTooLarge(ClearlineError):
    """An upload over the size or file-count limits."""


class DataDirBusy(ClearlineError):
    """Another process owns the data directory."""


class BadUpload(ClearlineError):
    """An upload that is not multipart/form-data as the API expects."""


# Most specific first: the first class the error is an instance of decides.
STATUS: tuple[tuple[type[ClearlineError], int, str], ...] = (
    (ConfigurationError, 400, "invalid_configuration"),
    (BadUpload, 400, "bad_upload"),
    (BadRequest, 400, "bad_request"),
    (Unauthorized, 401, "unauthorized"),
    (Forbidden, 403, "forbidden"),
    (NotFound, 404, "not_found"),
    (DocumentNotFound, 404, "not_found"),
    (DataDirBusy, 409, "data_dir_busy"),
    (Conflict, 409, "conflict"),
    (PayloadTooLarge, 413, "payload_too_large"),
)


def http_status(error: ClearlineError) -> tuple[int, str]:
    """The HTTP status and error code of `error`; any other Clearline error is a 400."""
    for kind, status, code in STATUS:
        if isinstance(error, kind):
            return status, code
    return 400, "bad_request"
