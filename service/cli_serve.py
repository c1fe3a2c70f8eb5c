"""`clearline serve` and `clearline demo`: the HTTP API, and the demo set up before it."""

from __future__ import annotations

import argparse
import sys

from service.cli_output import runtime
from service.lock import DataDirLock
from service.settings import Settings


def cmd_serve(args: argparse.Namespace, settings: Settings) -> int:
    lock = DataDirLock(
        settings.data_dir, "clearline serve", f"http://{settings.host}:{settings.port}"
    )
    lock.acquire()
    _serve(settings, lock)
    return 0


def _serve(settings: Settings, lock: DataDirLock) -> None:
    import uvicorn

    from service.app import create_app

    try:
        uvicorn.run(
            create_app(settings, lock=lock),
            host=settings.host,
            port=settings.port,
            log_level="info",
        )
    finally:
        lock.release()


def cmd_demo(args: argparse.Namespace, settings: Settings) -> int:
    """Set up the demo tenant (sample knowledge, procedures, actions service), then serve."""
    from service.demo import set_up, start_actions_service, walkthrough

    url = f"http://{settings.host}:{settings.port}"
    lock = DataDirLock(settings.data_dir, "clearline serve", url)
    lock.acquire()
    rt = runtime(settings)
    try:
        demo = set_up(rt)
    finally:
        rt.close()
    actions = start_actions_service(settings)
    sys.stderr.write(walkthrough(url, demo))
    try:
        _serve(settings, lock)
    finally:
        actions.stop()
    return 0


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser],
             common: argparse.ArgumentParser) -> None:  # fmt: skip
    for name, func in (("serve", cmd_serve), ("demo", cmd_demo)):
        p = sub.add_parser(
            name, parents=[common], help=(func.__doc__ or "").split("\n")[0] or "run the HTTP API"
        )
        p.add_argument("--host")
        p.add_argument("--port", type=int)
        p.set_defaults(func=func)
