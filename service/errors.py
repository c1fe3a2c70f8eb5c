"""Service errors, each mapped to one HTTP status in service.app."""

from knowledge.errors import ClearlineError


class ServiceError(ClearlineError):
    status_code = 400
    code = "bad_request"


class ConfigurationError(ServiceError):
    """Misuse: a setting or argument that can never work as given."""

    code = "invalid_configuration"


class NotFound(ServiceError):
    status_code = 404
    code = "not_found"


class Conflict(ServiceError):
    status_code = 409
    code = "conflict"


class Unauthorized(ServiceError):
    status_code = 401
    code = "unauthorized"


class Forbidden(ServiceError):
    status_code = 403
    code = "forbidden"


class PayloadTooLarge(ServiceError):
    status_code = 413
    code = "payload_too_large"


class DataDirBusy(ServiceError):
    """Another process owns the data directory."""

    status_code = 409
    code = "data_dir_busy"


class BadRequest(ServiceError):
    """Input that is wrong as given: the message says what and how to fix it."""
