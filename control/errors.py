"""Errors of the domain below the service. Each message says what is wrong and what to do
next; the service gives each class one HTTP status and error code (service/errors.py)."""

from knowledge.errors import ClearlineError


class NotFound(ClearlineError):
    """The tenant has nothing with that id (another tenant's records count as absent)."""


class Conflict(ClearlineError):
    """The request contradicts the current state: it exists already, or is closed or done."""


class BadRequest(ClearlineError):
    """Input that is wrong as given: the message says what and how to fix it."""


class ConfigurationError(ClearlineError):
    """Misuse: a setting or argument that can never work as given."""


class Unauthorized(ClearlineError):
    """A missing, malformed, invalid or revoked API key."""
