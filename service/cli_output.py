"""Output and wiring shared by the CLI's command modules."""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from control.errors import BadRequest
from service.settings import Settings


def out(text: str) -> None:
    sys.stdout.write(text + "\n")


def emit(args: argparse.Namespace, data: Any, human: str) -> None:
    out(json.dumps(data, indent=2, default=str) if args.json else human)


def runtime(settings: Settings) -> Any:
    from service.runtime import Runtime

    return Runtime(settings)


def output_path(raw: str, settings: Settings) -> Path:
    """The file a command may write for `--out`: BadRequest for an empty name, a folder, or
    a path inside the data directory (an export there could overwrite one of its stores)."""
    if not raw.strip():
        raise BadRequest("--out is empty; name a file, e.g. --out export.jsonl")
    path = Path(raw).expanduser()
    resolved, data_dir = path.resolve(), settings.data_dir.resolve()
    if resolved.is_dir():
        raise BadRequest(f"--out {raw} is a folder; name a file in it, e.g. {path / 'export'}")
    if resolved == data_dir or data_dir in resolved.parents:
        raise BadRequest(
            f"--out {raw} is inside the data directory {data_dir}; write it elsewhere (a file "
            "there could overwrite one of its stores)"
        )
    return path


def write_lines(path: Path, lines: Iterable[str]) -> None:
    """Write `lines` (each ending in a newline) to `path` through a temporary file beside it,
    creating its folder: a file already there stays whole until the new one is complete."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.{os.getpid()}.partial")
    try:
        with partial.open("w", encoding="utf-8") as handle:
            handle.writelines(lines)
        os.replace(partial, path)
    finally:
        partial.unlink(missing_ok=True)
