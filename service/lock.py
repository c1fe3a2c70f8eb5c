"""One process owns a data directory: an exclusive flock on `<data-dir>/clearline.lock`.

Chroma's embedded client and the keyword index must not be written by two processes. The
owner writes who it is into the lock file, so a second process can say who holds it.
"""

from __future__ import annotations

import fcntl
import json
import os
from pathlib import Path
from typing import IO, Any

from service.errors import DataDirBusy


class DataDirLock:
    """Exclusive, process-lifetime ownership of a data directory.

    >>> with DataDirLock(Path("data"), "clearline ingest"):
    ...     ...
    """

    def __init__(self, data_dir: Path, owner: str, url: str | None = None) -> None:
        self.path = data_dir / "clearline.lock"
        self._owner = owner
        self._url = url
        self._handle: IO[str] | None = None

    def acquire(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        handle = self.path.open("a+")
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            holder = _holder(handle.read())
            handle.close()
            raise DataDirBusy(_busy_message(self.path.parent, holder)) from None
        handle.seek(0)
        handle.truncate()
        handle.write(json.dumps({"pid": os.getpid(), "owner": self._owner, "url": self._url}))
        handle.flush()
        self._handle = handle

    def release(self) -> None:
        if self._handle is not None:
            self._handle.seek(0)
            self._handle.truncate()
            fcntl.flock(self._handle, fcntl.LOCK_UN)
            self._handle.close()
            self._handle = None

    def __enter__(self) -> DataDirLock:
        self.acquire()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()


def _holder(text: str) -> dict[str, Any]:
    try:
        data = json.loads(text)
        return data if isinstance(data, dict) else {}
    except ValueError:
        return {}


def _busy_message(data_dir: Path, holder: dict[str, Any]) -> str:
    who = f"`{holder.get('owner', 'another clearline process')}` (pid {holder.get('pid', '?')})"
    if holder.get("url"):
        return (
            f"data directory '{data_dir}' is in use by {who} serving {holder['url']}; "
            f"use its HTTP API (for example POST {holder['url']}/v1/knowledge/sources with an "
            "admin key), or stop the server and run this command again"
        )
    return (
        f"data directory '{data_dir}' is in use by {who}; wait for it to finish, "
        "or pass a different --data-dir"
    )
