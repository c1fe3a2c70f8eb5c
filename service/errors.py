"""Errors only the service raises, and the one place that gives every Clearline error its
HTTP status and error code (the API's error body and the CLI's `--json` error use it)."""

from control.errors import BadRequest, ConfigurationError, Conflict, NotFound, Unauthorized
from conversations.consent import ConsentRequired
from conversations.versions import VersionConflict
from knowledge.errors import ClearlineError, DocumentNotFound
from service.rate_limits import TooManyRequests, TurnInProgress


class Forbidden(ClearlineError):
    """The key is valid but its role may not do this."""


class PayloadTooLarge(ClearlineError):
    """An upload over the size or file-count limits."""


class DataDirBusy(ClearlineError):
    """Another process owns the data directory."""


class BadUpload(ClearlineError):
    """An upload that is not multipart/form-data as the API expects."""


class PreconditionRequired(ClearlineError):
    """A change of a versioned resource sent without the version it was based on."""


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
    (VersionConflict, 409, "version_conflict"),
    (ConsentRequired, 409, "consent_required"),
    (Conflict, 409, "conflict"),
    (PayloadTooLarge, 413, "payload_too_large"),
    (PreconditionRequired, 428, "precondition_required"),
    (TurnInProgress, 429, "turn_in_progress"),
    (TooManyRequests, 429, "rate_limited"),
)


def http_status(error: ClearlineError) -> tuple[int, str]:
    """The HTTP status and error code of `error`; any other Clearline error is a 400."""
    for kind, status, code in STATUS:
        if isinstance(error, kind):
            return status, code
    return 400, "bad_request"


def http_extras(error: ClearlineError) -> tuple[dict[str, str], dict[str, object]]:
    """Headers and error-body fields beyond the code and message: Retry-After on 429; on a
    version conflict the current version (`current_version` and its ETag)."""
    if isinstance(error, TooManyRequests):
        return {"Retry-After": str(error.retry_after)}, {}
    if isinstance(error, ConsentRequired):
        return {}, dict(error.fields)
    if isinstance(error, VersionConflict):
        return {"ETag": f'"{error.current}"'}, {"current_version": error.current}
    return {}, {}
