"""Streaming multipart upload to disk, with the size limit enforced while bytes arrive.

FastAPI's UploadFile would spool the whole body before our code runs; here every part is
written straight to the job folder and the request is refused (413) the moment one file
passes the limit, before anything is parsed.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from python_multipart import MultipartParser
from python_multipart.multipart import parse_options_header

from knowledge.errors import ClearlineError
from service.errors import BadUpload, PayloadTooLarge

_UNSAFE = re.compile(r"[^A-Za-z0-9._ -]+")


def safe_name(raw: str) -> str:
    """The last path component of a client file name, with odd characters replaced."""
    name = raw.replace("\\", "/").rsplit("/", 1)[-1]
    name = _UNSAFE.sub("_", name).strip(" .")
    return name[:200] or "upload"


@dataclass
class _State:
    headers: dict[str, str] = field(default_factory=dict)
    header_field: bytes = b""
    header_value: bytes = b""
    handle: IO[bytes] | None = None
    name: str = ""
    size: int = 0
    files: list[str] = field(default_factory=list)
    error: ClearlineError | None = None
    ended: bool = False  # the closing boundary was read


async def receive_files(
    content_type: str,
    body: AsyncIterator[bytes],
    work_dir: Path,
    max_file_bytes: int,
    max_files: int,
) -> list[str]:
    """Write each file part of a multipart body to `work_dir/<n>/<name>`; return the names."""
    kind, options = parse_options_header(content_type)
    boundary = options.get(b"boundary")
    if kind != b"multipart/form-data" or not boundary:
        raise BadUpload("send the files as multipart/form-data, one part per file (field 'files')")
    state = _State()

    def on_header_field(data: bytes, start: int, end: int) -> None:
        state.header_field += data[start:end]

    def on_header_value(data: bytes, start: int, end: int) -> None:
        state.header_value += data[start:end]

    def on_header_end() -> None:
        state.headers[state.header_field.decode("latin-1").lower()] = state.header_value.decode(
            "utf-8", "replace"
        )
        state.header_field = state.header_value = b""

    def on_headers_finished() -> None:
        _, disposition = parse_options_header(state.headers.get("content-disposition", ""))
        filename = disposition.get(b"filename")
        if filename is None:
            return  # a plain form field: ignored
        if len(state.files) >= max_files:
            state.error = PayloadTooLarge(
                f"too many files in one upload (limit {max_files}); send them in batches"
            )
            return
        folder = work_dir / str(len(state.files))
        folder.mkdir()
        state.name = safe_name(filename.decode("utf-8", "replace"))
        state.handle = (folder / state.name).open("wb")
        state.size = 0
        state.files.append(state.name)

    def on_part_data(data: bytes, start: int, end: int) -> None:
        if state.handle is None or state.error is not None:
            return
        state.size += end - start
        if state.size > max_file_bytes:
            state.error = PayloadTooLarge(
                f"'{state.name}' is larger than the {max_file_bytes / 1048576:.3g} MB limit; "
                "split it or ask an operator to raise CLEARLINE_MAX_FILE_MB"
            )
            return
        state.handle.write(data[start:end])

    def on_part_end() -> None:
        if state.handle is not None:
            state.handle.close()
            state.handle = None
        state.headers = {}

    def on_end() -> None:
        state.ended = True

    parser = MultipartParser(
        boundary,
        {
            "on_end": on_end,
            "on_header_field": on_header_field,
            "on_header_value": on_header_value,
            "on_header_end": on_header_end,
            "on_headers_finished": on_headers_finished,
            "on_part_data": on_part_data,
            "on_part_end": on_part_end,
        },
    )
    try:
        async for block in body:
            parser.write(block)
            if state.error is not None:
                raise state.error
        parser.finalize()  # checks nothing (python-multipart 0.0.x): the closing boundary is ours
        if not state.ended:
            raise BadUpload(
                "the upload ended before its closing boundary, so its last file may be cut off; "
                "nothing was changed: send it again"
            )
    except ClearlineError:
        _discard(state, work_dir)
        raise
    except Exception as error:
        _discard(state, work_dir)
        raise BadUpload(f"the multipart body could not be read ({error}); send it again") from error
    if not state.files:
        _discard(state, work_dir)
        raise BadUpload("no file in the upload; attach one or more files in the field 'files'")
    return state.files


def _discard(state: _State, work_dir: Path) -> None:
    if state.handle is not None:
        state.handle.close()
    shutil.rmtree(work_dir, ignore_errors=True)
