"""Conditional requests for versioned resources (agent configuration, procedures).

GET gives the version as a strong ETag (`"7"`). A change names the version it was based
on, in `If-Match: "7"` or as `"version": 7` in the body; `If-None-Match: *` (or version 0)
creates something that must not exist yet. A change without a version gets 428: without
it, two admins editing at once would silently overwrite each other.
"""

from __future__ import annotations

import re

from fastapi import Request, Response

from control.errors import BadRequest
from service.errors import PreconditionRequired

MAX_VERSION = 10**18 - 1
"""The largest version a request may name: far above any real one, and below SQLite's
largest integer."""
_VERSION_TAG = re.compile(r"[0-9]{1,18}")  # ASCII digits only: str.isdigit() takes "²"


def etag(version: int) -> str:
    return f'"{version}"'


def set_etag(response: Response, version: int) -> None:
    response.headers["ETag"] = etag(version)


def _shown(value: str) -> str:
    """`value` for an error message, cut short when it is long."""
    return value if len(value) <= 40 else value[:40] + "..."


def _tag_version(value: str) -> int:
    tags = [t.strip() for t in value.split(",") if t.strip()]
    if len(tags) != 1 or tags[0] == "*":
        raise BadRequest(
            f"If-Match: {_shown(value)} is not accepted; send the one ETag you read, "
            'e.g. If-Match: "3"'
        )
    tag = tags[0].removeprefix("W/").strip('"')
    if not _VERSION_TAG.fullmatch(tag):
        raise BadRequest(
            f'If-Match: {_shown(value)} is not an ETag of this API (they look like "3")'
        )
    return int(tag)


def _body_version(version: int) -> int:
    if not 0 <= version <= MAX_VERSION:
        shown = str(version) if abs(version) < 10**40 else "of over 40 digits"
        raise BadRequest(
            f"version {shown} is not a version of this API; send the version "
            f"that GET returned (a whole number from 0 to {MAX_VERSION})"
        )
    return version


def expected_version(
    request: Request, body_version: int | None = None, required: bool = True, what: str = ""
) -> int | None:
    """The version the change is based on (0: must not exist yet), or None when the
    request names none and `required` is False; PreconditionRequired when it is True."""
    if_match = request.headers.get("if-match")
    if_none_match = request.headers.get("if-none-match")
    named: list[int] = []
    if if_match is not None:
        named.append(_tag_version(if_match))
    if if_none_match is not None:
        if if_none_match.strip() != "*":
            raise BadRequest("If-None-Match accepts only * (create what does not exist yet)")
        named.append(0)
    if body_version is not None:
        named.append(_body_version(body_version))
    if len(set(named)) > 1:
        raise BadRequest(
            "the request names two different versions (If-Match, If-None-Match, body); send one"
        )
    if named:
        return named[0]
    if required:
        raise PreconditionRequired(
            f"changing {what or 'this'} needs the version your change is based on: send "
            'If-Match with the ETag that GET returned (e.g. If-Match: "3") or "version" in '
            "the body; to create a new one, send If-None-Match: *"
        )
    return None
