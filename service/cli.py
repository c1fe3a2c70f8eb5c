"""The `clearline` command line. Every command takes --data-dir and --json.

Commands that touch a data directory take its lock; while `clearline serve` holds it they
refuse with a message that points to the server's HTTP API.
"""

from __future__ import annotations

import argparse
import json
import logging
import sqlite3
import sys
from typing import Any

from pydantic import ValidationError

from control.db import DamagedDatabase, is_damaged
from control.errors import BadRequest
from control.regional import tenant_scope
from ingest.ids import printable
from knowledge.errors import ClearlineError, DamagedFile
from privacy.memory import zero_new_allocations
from service import (
    cli_agent,
    cli_audit,
    cli_eval,
    cli_knowledge,
    cli_privacy,
    cli_qa,
    cli_retention,
    cli_serve,
    cli_tenants,
    cli_training,
)
from service.cli_output import out
from service.errors import http_status
from service.offline import go_offline
from service.settings import Settings


def _settings(args: argparse.Namespace) -> Settings:
    overrides: dict[str, Any] = {}
    if args.data_dir is not None:
        overrides["data_dir"] = args.data_dir  # the setting checks it ("" is not ".")
    for name in ("host", "port"):
        if getattr(args, name, None) is not None:
            overrides[name] = getattr(args, name)
    return Settings(**overrides)


def _setting_problems(error: ValidationError, args: argparse.Namespace) -> str:
    """What is wrong, naming the option when the value came from one, else the variable."""
    names, from_option = [], False
    for problem in error.errors():
        field = "_".join(map(str, problem["loc"]))
        if getattr(args, field, None) is not None:
            names.append(f"--{field.replace('_', '-')}: {problem['msg']}")
            from_option = True
        else:
            names.append(f"CLEARLINE_{field.upper()}: {problem['msg']}")
    fix = "fix the option" if from_option else "fix the environment variable"
    return f"invalid setting ({'; '.join(names)}); {fix}"


def _add_common(parser: argparse.ArgumentParser, **defaults: Any) -> None:
    parser.add_argument(
        "--data-dir", help="data directory (default $CLEARLINE_DATA_DIR or ./data)", **defaults
    )
    parser.add_argument("--json", action="store_true", help="machine-readable output", **defaults)


def build_parser() -> argparse.ArgumentParser:
    """`--data-dir` and `--json` work before or after the command. A subcommand's copies
    default to SUPPRESS: a plain default there would overwrite what the user gave before it."""
    parser = argparse.ArgumentParser(prog="clearline", description=__doc__)
    _add_common(parser)
    common = argparse.ArgumentParser(add_help=False)
    _add_common(common, default=argparse.SUPPRESS)
    sub = parser.add_subparsers(dest="command", required=True)
    families = (cli_knowledge, cli_tenants, cli_eval, cli_qa, cli_agent, cli_serve, cli_privacy,
                cli_retention, cli_audit, cli_training)  # fmt: skip
    for family in families:
        family.register(sub, common)
    return parser


def main(argv: list[str] | None = None) -> int:
    go_offline()
    zero_new_allocations()  # no freed text in files native code writes whole
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    args = build_parser().parse_args(argv)
    try:
        settings = _settings(args)
    except ValidationError as error:
        sys.stderr.write(f"error: {_setting_problems(error, args)}\n")
        return 2
    try:
        # A command for one tenant works in its region's control database.
        with tenant_scope(getattr(args, "tenant", None)):
            code: int = args.func(args, settings)
        return code
    except ClearlineError as error:
        return _failed(args, error)
    except DamagedFile as error:
        return _failed(args, error, error.code)
    except sqlite3.DatabaseError as error:  # a store that opens SQLite directly
        if not is_damaged(error):
            raise
        damaged = DamagedDatabase(f"in {settings.data_dir}", str(error))
        return _failed(args, damaged, damaged.code)
    except (OSError, UnicodeDecodeError, RecursionError) as error:
        return _failed(args, BadRequest(_input_problem(error)))
    except KeyboardInterrupt:
        sys.stderr.write(
            "interrupted: what was already saved is kept; run the command again to finish\n"
        )
        return 130


def _failed(
    args: argparse.Namespace,
    error: ClearlineError | DamagedFile,
    code: str | None = None,
) -> int:
    """One `error:` line (names escaped: a file name may hold a newline), and with --json
    the error object too."""
    sys.stderr.write(f"error: {printable(str(error))}\n")
    if args.json:
        if code is None and isinstance(error, ClearlineError):
            _, code = http_status(error)
        out(json.dumps({"error": {"code": code or "error", "message": str(error)}}))
    return 1


def _input_problem(error: OSError | UnicodeDecodeError | RecursionError) -> str:
    """One line for a file the user named that cannot be read or written as given."""
    if isinstance(error, UnicodeDecodeError):
        return (
            f"a file is not UTF-8 text (byte {error.start} cannot be decoded); save it as "
            "UTF-8 and run the command again"
        )
    if isinstance(error, RecursionError):
        return "a line is nested too deeply to read (thousands of brackets?); fix the file"
    where = f"{error.filename}: " if error.filename else ""
    return f"{where}{error.strerror or error}"


if __name__ == "__main__":
    sys.exit(main())
