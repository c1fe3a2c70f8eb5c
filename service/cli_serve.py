"""`clearline serve` and `clearline demo`: the HTTP API, and the demo set up before it."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from service.cli_output import runtime
from service.lock import DataDirLock
from service.settings import Settings


def cmd_serve(args: argparse.Namespace, settings: Settings) -> int:
    lock = DataDirLock(
        settings.data_dir, "clearline serve", f"http://{settings.host}:{settings.port}"
    )
    _serve(settings, lock, _opened(settings, lock))
    return 0


def _opened(settings: Settings, lock: DataDirLock) -> Any:
    """Take the lock and open the runtime before uvicorn starts, so that a damaged database
    is the CLI's one error line (exit 1), not the lifespan's traceback; the lock is let go
    if opening fails."""
    lock.acquire()
    try:
        return runtime(settings)
    except BaseException:
        lock.release()
        raise


def _serve(settings: Settings, lock: DataDirLock, rt: Any) -> None:
    """Serve with the runtime the caller opened; the app's lifespan closes it."""
    import uvicorn

    from service.app import create_app

    try:
        uvicorn.run(
            create_app(settings, lock=lock, runtime=rt),
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
    rt = _opened(settings, lock)
    try:
        demo = set_up(rt)
    except BaseException:
        rt.close()
        lock.release()
        raise
    actions = start_actions_service(settings)
    sys.stderr.write(walkthrough(url, demo))
    try:
        _serve(settings, lock, rt)
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
