"""Errors only the service raises, and the one place that gives every Clearline error its
HTTP status and error code (the API's error body and the CLI's `--json` error use it), and
the API's wording where it differs from the CLI's."""

from fastapi.exceptions import RequestValidationError

from control.errors import (
    BadRequest,
    ConfigurationError,
    Conflict,
    NotFound,
    Unauthorized,
    quoted,
)
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
    """An upload the API cannot take: not multipart/form-data, or with an unknown option."""


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


# What an API client is told of a DamagedFile (503, or a failed job): not the server's
# paths, which the operator's log holds with the repair.
DAMAGED = (
    "a data file of this service is damaged and cannot be read; nothing was changed. The "
    "operator's log names the file and how to repair it"
)

# What an API client is told when a database stayed locked past the stores' busy timeout
# (another request or a privacy run was writing): the request did not finish; send it again.
BUSY = (
    "the service's database is busy with other work and this request could not finish; "
    "try again in a few seconds"
)
BUSY_RETRY_AFTER_S = 5

JSON_BODY = "send the body as JSON with Content-Type: application/json"


def http_message(error: ClearlineError) -> str:
    """The message of `error` for an API client: its own, except where that tells a CLI
    user what to run (the CLI prints `str(error)`); then the request to send instead."""
    if isinstance(error, DocumentNotFound):
        return (
            f"there is no knowledge source {quoted(error.document_id)}; list the sources "
            "with GET /v1/knowledge/sources"
        )
    return str(error)


def validation_message(error: RequestValidationError, content_type: str | None) -> str:
    """The first problem of a request FastAPI refused, as `where: what`. A body that was not
    read as JSON (no Content-Type, or another one) says so, instead of pydantic's "Input
    should be a valid dictionary" about the raw bytes."""
    problems = error.errors()
    first = problems[0] if problems else {}
    where = ".".join(str(part) for part in first.get("loc", ()))
    if isinstance(error.body, bytes | bytearray) and where.startswith("body"):
        sent = f"was {quoted(content_type, 60)}" if content_type else "was missing"
        return f"body: {JSON_BODY} (the request's Content-Type {sent})"
    return f"{where}: {first.get('msg', 'invalid request')}"
