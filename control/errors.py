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


def quoted(value: str, limit: int = 80) -> str:
    """`value` in single quotes for an error message: characters that do not print (line
    breaks, other controls, invisible format characters) escaped as `repr` writes them, and
    cut after `limit` characters with an ellipsis, so an id a client sent is never echoed
    back whole however long it is.

    >>> quoted("conv_1")
    "'conv_1'"
    >>> quoted("x" * 100, limit=5)
    "'xxxxx…'"
    """
    shown: list[str] = []
    size = 0
    for char in value:
        piece = char if char.isprintable() else repr(char)[1:-1]
        if size + len(piece) > limit:
            shown.append("…")
            break
        shown.append(piece)
        size += len(piece)
    return "'" + "".join(shown) + "'"
