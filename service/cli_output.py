"""Output and wiring shared by the CLI's command modules."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from service.settings import Settings


def out(text: str) -> None:
    sys.stdout.write(text + "\n")


def emit(args: argparse.Namespace, data: Any, human: str) -> None:
    out(json.dumps(data, indent=2, default=str) if args.json else human)


def runtime(settings: Settings) -> Any:
    from service.runtime import Runtime

    return Runtime(settings)
